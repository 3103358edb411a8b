/**
 * Splunk SPL's own corners, each asserted against both the reference evaluator (the rule) and the
 * spl verifier (the emitted text), with the page that documents it. In-process.
 */
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/spl.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { withOrigin } from '../../src/origin.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/spl.js'
import { rule } from '../support/rules.js'
import { SYSMON_ONLY } from './helpers.js'

const SYSMON1 = 'source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1 '
/** What the backend writes for that scope (the Sysmon branch: test/spl/helpers.ts SYSMON_ONLY). */
const SCOPE = '`sysmon` EventCode=1 '

async function both(detection: string, events: readonly JsonEvent[]) {
  const r = rule(detection)
  const e = await checkEquivalence(r, events, backend, verifier, { pipeline: SYSMON_ONLY })
  expect(e.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return { reference: e.expected, spl: e.actual, query: e.query!.split('\n').at(-1)! }
}
/** The verifier's answers for hand-written SPL, to show the engine's own rule. */
const run = async (query: string, events: readonly JsonEvent[]) =>
  (await verifier.verify(query, withOrigin(events, { product: 'windows', category: 'process_creation' }))).matches

const sel = (body: string) => `  sel:\n    ${body}\n  condition: sel`

describe('spl corners', () => {
  it('search compares values case-insensitively, where case-sensitively: a plain value goes to search, |cased to where', async () => {
    // "By default, searches are case-insensitive" (https://help.splunk.com/splunk-enterprise/search/search-manual/10.0/search-primer/use-case-and-term-to-match-phrases);
    // "The <eval-expression> is case-sensitive" (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/where).
    const events = [{ Image: 'ABC' }, { Image: 'abc' }]
    expect(await run(SYSMON1 + 'Image="abc"', events)).toEqual([true, true])
    expect(await run(SYSMON1 + '| where Image=="abc"', events)).toEqual([false, true])
    const ci = await both(sel("Image: 'abc'"), events)
    expect(ci.query).toBe(SCOPE + 'Image="abc"')
    expect(ci.spl).toEqual(ci.reference)
    const cased = await both(sel("Image|cased: 'abc'"), events)
    expect(cased.reference).toEqual([false, true])
    expect(cased.spl).toEqual(cased.reference)
  })

  it('search has * but no one-character wildcard and no escape for *: ? and a literal * go to where', async () => {
    // "The backslash symbol can't be used to escape the asterisk in search strings"
    // (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/backslashes).
    const events = [{ Image: 'a*c' }, { Image: 'abc' }, { Image: 'ac' }]
    const q = await both(sel("Image: 'a?c'"), events)
    expect(q.query).toContain('| where isnotnull(mvfind(Image, "^[Aa][\\\\s\\\\S][Cc]\\\\z"))')
    expect(q.reference).toEqual([true, true, false])
    expect(q.spl).toEqual(q.reference)
    const star = await both(sel("Image: 'a\\*c'"), events)
    expect(star.reference).toEqual([true, false, false])
    expect(star.spl).toEqual(star.reference)
  })

  it('an empty value is matched in where (search\'s f="" is not a test for empty); a missing field is not empty', async () => {
    const events = [{ Image: '' }, {}, { Image: 'x' }]
    const r = await both(sel("Image: ''"), events)
    expect(r.query).toBe(SCOPE + '| where isnotnull(mvfind(Image, "^\\\\z"))')
    expect(r.reference).toEqual([true, false, false])
    expect(r.spl).toEqual(r.reference)
  })

  it('multivalue fields: a value test holds when any value matches (search and mvfind alike)', async () => {
    // "Evaluate and manipulate fields with multiple values"
    // (https://help.splunk.com/splunk-enterprise/search/search-manual/9.1/evaluate-and-manipulate-fields/evaluate-and-manipulate-fields-with-multiple-values).
    const events = [{ Image: ['x', 'ABC'] }, { Image: ['x', 'y'] }]
    const s = await both(sel("Image: 'abc'"), events)
    expect(s.reference).toEqual([true, false])
    expect(s.spl).toEqual(s.reference)
    const w = await both(sel("Image: 'a?c'"), events)
    expect(w.reference).toEqual([true, false])
    expect(w.spl).toEqual(w.reference)
  })

  it('a value with a non-ASCII letter stays out of search (its folding there is not documented): where compares it exactly', async () => {
    const events = [{ Image: 'é' }, { Image: 'É' }]
    const r = await both(sel("Image: 'é'"), events)
    expect(r.query).toBe(SCOPE + '| where isnotnull(mvfind(Image, "^é\\\\z"))')
    expect(r.reference).toEqual([true, false])
    expect(r.spl).toEqual(r.reference)
  })

  it("PCRE's (?i) folds beyond ASCII (ſ with s), so value regexes spell [Ss]; the old (?i) emission fails the proof", async () => {
    const events = [{ CommandLine: 'a\u017f' }, { CommandLine: 'AS' }]
    const r = await both(sel("CommandLine: 'a*s'"), events)
    expect(r.reference).toEqual([false, true])
    expect(r.spl).toEqual(r.reference)
    expect(await run(SYSMON1 + '| where isnotnull(mvfind(CommandLine, "(?i)^a[\\\\s\\\\S]*s\\\\z"))', events)).toEqual([
      true,
      true,
    ])
  })
})
