/**
 * The adversarial events are generated from each pattern itself (src/proof/pattern-samples.ts):
 * a `?` filled with 0, 1 and 2 characters, an extra character at every position, each branch and
 * bound of a regex, each atom just missed. Shown here by what they catch: a backend that widens a
 * `?` to `*` on each target, a regex quantifier one wider, and regex rules that now get events on
 * both sides of the regex.
 */
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import { evaluateRule } from '../../src/evaluate/evaluate.js'
import { withOrigin } from '../../src/origin.js'
import { adversarialEvents } from '../../src/proof/adversarial.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { regexSamples, wildcardSamples } from '../../src/proof/pattern-samples.js'
import type { Rule } from '../../src/rule/rule.js'
import type { TargetId } from '../../src/target-ids.js'
import { loadVerifier } from '../../src/verify/index.js'
import { rule as ruleOf } from '../support/rules.js'

const LINUX_PROCESS = 'product: linux\n    category: process_creation'
const NO_FLAGS = { i: false, m: false, s: false }

/** The rule's generated events (its own log source and the neighbours), placed at it. */
const eventsOf = (r: Rule) => withOrigin(adversarialEvents(r.detection, 80, 1489, r.logsource), r.logsource)

describe('strings from a wildcard value', () => {
  it('fill each ? with 0, 1 and 2 characters and put an extra character at every position', () => {
    const samples = wildcardSamples([
      { kind: 'lit', text: 'a' },
      { kind: 'one' },
      { kind: 'lit', text: 'b' },
      { kind: 'any' },
      { kind: 'lit', text: 'c' },
    ])
    expect(samples).toEqual(expect.arrayContaining(['awbc', 'abc', 'awwbc']))
    // `x` inserted before, inside and after: it hits only where the `*` is (awbxc).
    expect(samples).toEqual(expect.arrayContaining(['xawbc', 'axwbc', 'awxbc', 'awbxc', 'awbcx']))
    // Each character dropped, and the other case.
    expect(samples).toEqual(expect.arrayContaining(['wbc', 'abc', 'awc', 'awb', 'AWBC']))
  })
})

describe('strings from a regex', () => {
  it('one per alternation branch, each quantifier at its bounds, each atom missed', () => {
    const samples = regexSamples('^(?:cmd|pwsh)-[ec]{2,3}$', NO_FLAGS)
    const re = /^(?:cmd|pwsh)-[ec]{2,3}$/
    expect(samples).toEqual(expect.arrayContaining(['cmd-ee', 'pwsh-ee', 'cmd-eee']))
    // min-1 and max+1 of {2,3}; a class atom and a literal just missed.
    expect(samples).toEqual(expect.arrayContaining(['cmd-e', 'cmd-eeee', 'cmd-ae', 'dmd-ee']))
    expect(samples.filter((s) => re.test(s)).length).toBeGreaterThan(2)
    expect(samples.filter((s) => !re.test(s)).length).toBeGreaterThan(4)
  })
  it('regex rules get events on both sides of the regex', () => {
    const regexes = [
      String.raw`\\[a-z]{8}\.exe$`,
      String.raw`-e(nc|ncodedcommand)?\s+[A-Za-z0-9+/=]{20,}`,
      String.raw`^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$`,
      String.raw`(?i)\bstop-service\b.{0,40}-force`.replace('(?i)', ''),
      String.raw`\.(dll|cpl|ocx)\s*,\s*#?\d+$`,
    ]
    for (const re of regexes) {
      const r = ruleOf(`  sel:\n    CommandLine|re: '${re}'\n  condition: sel`)
      const events = eventsOf(r)
      const selected = events.filter((e) => evaluateRule(r, e)).length
      expect(selected, re).toBeGreaterThanOrEqual(3)
      expect(events.length - selected, re).toBeGreaterThanOrEqual(10)
    }
  })
})

describe('mutations the pattern events catch', () => {
  // Digits around the `?`: no target spells them out for case.
  const QUESTION = ruleOf(`  sel:\n    Image|endswith: '/12?34'\n  condition: sel`, { logsource: LINUX_PROCESS })
  // What each target writes for the `?`, and the same text widened to "any run".
  const WIDENED: Record<TargetId, readonly [string, string]> = {
    spl: ['12[\\\\s\\\\S]34', '12[\\\\s\\\\S]*34'],
    kql: ['12.34', '12.*34'],
    eql: ['12?34', '12*34'],
    osquery: ['12_34', '12%34'],
  }
  for (const [target, [from, to]] of Object.entries(WIDENED) as [TargetId, readonly [string, string]][]) {
    it(`${target}: a ? widened to * is caught by an event with 0 or 2 characters in its place`, async () => {
      const query = (await loadBackend(target)).compile(QUESTION).query!
      expect(query).toContain(from)
      const verifier = await loadVerifier(target)
      const events = eventsOf(QUESTION)
      const now = await checkQuery(QUESTION, query, events, verifier)
      expect(now.mismatches).toEqual([])
      const widened = await checkQuery(QUESTION, query.replace(from, to), events, verifier)
      const caught = widened.mismatches.map((i) => String((events[i] as Record<string, unknown>).Image))
      expect(caught.length).toBeGreaterThan(0)
      // The `?` filled with nothing or with two characters: the rule says no, the widened query yes.
      expect(caught.some((v) => v.endsWith('/1234') || /\/12..34$/.test(v))).toBe(true)
    })
  }

  it('spl: a regex quantifier one wider ({2} read as {2,3}) is caught at its bound', async () => {
    const r = ruleOf(`  sel:\n    CommandLine|re: '-[ec]{2}x'\n  condition: sel`)
    const query = (await loadBackend('spl')).compile(r).query!
    expect(query).toContain('{2}')
    const verifier = await loadVerifier('spl')
    const events = eventsOf(r)
    expect((await checkQuery(r, query, events, verifier)).mismatches).toEqual([])
    const wider = await checkQuery(r, query.replace('{2}', '{2,3}'), events, verifier)
    expect(wider.mismatches.length).toBeGreaterThan(0)
  })
})
