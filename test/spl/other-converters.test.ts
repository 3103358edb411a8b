/**
 * The SPL verifier on what other converters write (pySigma's Splunk backend): double-quoted field
 * names, `| regex f="…"` and `f!="…"`, `| rex field=f "(?<name>…)" | eval … | search …`, `search`
 * after a pipe, and a search that begins with OR. Then `rulesmith verify`'s library on three
 * queries in that style, each against its rule: a `?` widened to `*`, a `| regex` moved out of its
 * `not`, a leading `OR` after `| search`. The log-source terms are this project's Splunk model
 * (`source="XmlWinEventLog:…"`), as a user adapts them to where their events land.
 */
import { describe, expect, it } from 'vitest'
import { parseSpl } from '../../grammars/spl.js'
import { withOrigin } from '../../src/origin.js'
import { eventsForRule, verifyQuery, type QueryVerdict } from '../../src/proof/verify-query.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/spl.js'
import { match, rule, sigma } from './helpers.js'

const R = rule(match('Image', 'x'))
const SYSMON1 = 'source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1'

async function verify(query: string, events: JsonEvent[]) {
  return verifier.verify(query, withOrigin(events, R.logsource))
}
/** Which events the query selects (fails on any diagnostic). */
async function run(query: string, events: JsonEvent[]): Promise<number[]> {
  const v = await verify(query, events)
  expect(v.diagnostics).toEqual([])
  return v.matches!.flatMap((m, i) => (m ? [i] : []))
}

describe('spl grammar: other converters', () => {
  it('a double-quoted field name before = or IN; alone a quoted string is still a phrase', async () => {
    const ev: JsonEvent[] = [{ 'c-useragent': 'rclone/v1.62' }, { 'c-useragent': 'curl' }, {}]
    expect(await run('"c-useragent"="rclone/v*"', ev)).toEqual([0])
    expect(await run('"c-useragent" IN ("curl", "x")', ev)).toEqual([1])
    expect(await run('NOT "c-useragent"=*', ev)).toEqual([2])
    const p = parseSpl('"rclone"')
    expect(p.query!.commands[0]).toMatchObject({ expr: { kind: 'term', value: { text: 'rclone', quoted: true } } })
  })
  it('| regex f="…" keeps matches (unanchored PCRE); f!="…" keeps the rest, events without f among them', async () => {
    const ev: JsonEvent[] = [{ a: 'x-enc y' }, { a: 'nothing' }, {}, { a: ['q', 'z-enc'] }]
    expect(await run('* | regex a="-enc"', ev)).toEqual([0, 3])
    expect(await run('* | regex a!="-enc"', ev)).toEqual([1, 2])
    expect(await run('* | regex "c-useragent"="^rclone"', [{ 'c-useragent': 'rclone' }, {}])).toEqual([0])
    // A regex on _raw (no field): the raw text is not modelled, so the verifier says it cannot run it.
    expect((await verify('* | regex "-enc"', ev)).diagnostics[0]?.message).toMatch(/regex on _raw/)
  })
  it('| rex extracts the named groups of the first match; no match, no field; eval and search read them', async () => {
    const q =
      '* | rex field=a "(?<aMatch>-e(nc)?\\s+(?<arg>\\w+))" | eval aCondition=if(isnotnull(aMatch), "true", "false") | search aCondition="true"'
    const ev: JsonEvent[] = [{ a: 'p -enc AbC' }, { a: 'p -e x' }, { a: 'p -x' }, {}]
    expect(await run(q, ev)).toEqual([0, 1])
    expect(await run(q.replace('aCondition="true"', 'arg="x"'), ev)).toEqual([1])
    expect(await run(q.replace('aCondition="true"', 'aCondition="false"'), ev)).toEqual([2, 3])
    // A field the regex's group names already holds keeps its value when rex does not match.
    expect(await run('* | rex field=a "(?<b>z+)" | search b="kept"', [{ a: 'q', b: 'kept' }])).toEqual([0])
    expect(
      (await verify('* | rex field=a "(?<b>z)" | search b=z', [{ a: ['z', 'y'] }])).diagnostics[0]?.message,
    ).toMatch(/multivalue/)
  })
  it('eval: assignments left to right, NULL removes the field, a Boolean cannot be assigned', async () => {
    expect(await run('* | eval b=if(isnull(a), "none", "some"), c=b | search c="none"', [{ a: '1' }, {}])).toEqual([1])
    expect(await run('* | eval a=null() | search NOT a=*', [{ a: '1' }])).toEqual([0])
    expect((await verify('* | eval b=isnull(a)', [{}])).diagnostics[0]?.message).toMatch(/Boolean/)
  })
  it('search after a pipe filters what is left; a query that starts with a pipe retrieves nothing to run on', async () => {
    expect(await run('a=1 | search b=2', [{ a: '1', b: '2' }, { a: '1' }, { b: '2' }])).toEqual([0])
    expect((await verify('| search a=1', [{ a: '1' }])).diagnostics[0]?.message).toMatch(/starts with a pipe/)
  })
  it('a search expression that begins with OR or AND is a syntax error that says so', () => {
    for (const [q, word] of [
      ['a=1 | search OR b=2', 'OR'],
      ['OR a=1', 'OR'],
      ['a=1 | search AND b=2', 'AND'],
      ['a=1 (OR b=2)', 'OR'],
    ] as const) {
      const p = parseSpl(q)
      expect(p.query, q).toBeUndefined()
      expect(p.errors[0]!.message).toBe(
        `a search expression cannot begin with ${word}: ${word} joins two expressions and has none on its left`,
      )
      expect(p.errors[0]!.offset).toBe(q.indexOf(word))
    }
    expect(parseSpl('a=1 | search b=2 OR c=3').errors).toEqual([])
  })
})

/** The disagreeing events of a verdict: both answers and the event. */
const disagreeing = (v: QueryVerdict) =>
  v.mismatches.map((i) => ({ rule: v.expected[i], query: v.actual![i], event: v.events[i]!.event }))

describe('rulesmith verify on pySigma-style SPL', () => {
  it('(a) a ? widened to * (pySigma writes both wildcards as *): disagrees on values where ? is not one character', async () => {
    const r = sigma(`title: Rclone user agent of a 1.6x release
id: 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
status: test
logsource:
  category: proxy
detection:
  sel:
    c-useragent: 'rclone/v1.6?.?'
  condition: sel
level: medium
`)
    const query = 'sourcetype="bluecoat:proxysg:access:syslog" "c-useragent"="rclone/v1.6*.*"'
    const v = await verifyQuery(r, 'spl', query, eventsForRule(r).events)
    expect(v.agrees).toBe(false)
    const bad = disagreeing(v)
    expect(bad.length).toBeGreaterThan(0)
    // Each is selected by the widened query only, and has the ? filled with 0 or 2+ characters.
    for (const b of bad) {
      expect(b).toMatchObject({ rule: false, query: true })
      expect(String(b.event['c-useragent'])).not.toMatch(/^rclone\/v1\.6.\..$/i)
    }
    // The same query with the ? kept exact (where, as rulesmith writes it) agrees.
    const exact =
      'sourcetype="bluecoat:proxysg:access:syslog" | where isnotnull(mvfind(\'c-useragent\', "(?i)^rclone\\\\/v1\\\\.6[\\\\s\\\\S]\\\\.[\\\\s\\\\S]\\\\z"))'
    expect((await verifyQuery(r, 'spl', exact, eventsForRule(r).events)).agrees).toBe(true)
  })

  it('(b) a | regex moved out of its not: drops events the rule keeps', async () => {
    const r = sigma(`title: PowerShell not started from Explorer with an encoded command
id: 1c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
status: test
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\powershell.exe'
  filter:
    ParentImage|endswith: '\\explorer.exe'
    CommandLine|re: '\\s-enc\\s'
  condition: sel and not filter
level: medium
`)
    // not (ParentImage and regex) written as "not ParentImage" and, after the pipe, "not regex".
    const query = `${SYSMON1} Image="*\\\\powershell.exe" NOT ParentImage="*\\\\explorer.exe"\n| regex CommandLine!="\\s-enc\\s"`
    const v = await verifyQuery(r, 'spl', query, eventsForRule(r).events)
    expect(v.diagnostics.filter((d) => d.code !== 'verify/mismatch')).toEqual([])
    expect(v.agrees).toBe(false)
    const bad = disagreeing(v)
    expect(bad.length).toBeGreaterThan(0)
    // The rule keeps them (its filter needs both parts); the query drops them on either part alone.
    for (const b of bad) expect(b).toMatchObject({ rule: true, query: false })
    const encoded = (b: (typeof bad)[number]) => /\s-enc\s/.test(String(b.event.CommandLine))
    const fromExplorer = (b: (typeof bad)[number]) => /\\explorer\.exe$/i.test(String(b.event.ParentImage))
    expect(bad.some((b) => encoded(b) && !fromExplorer(b))).toBe(true)
    expect(bad.some((b) => fromExplorer(b) && !encoded(b))).toBe(true)
  })

  it('(c) a leading OR after | search: a syntax error; read without the OR it is an AND that loses the first branch', async () => {
    const r = sigma(`title: Download with certutil or bitsadmin
id: 2c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
status: test
logsource:
  product: windows
  category: process_creation
detection:
  selection_a:
    Image|endswith: '\\certutil.exe'
    CommandLine|contains: ' -urlcache '
  selection_b:
    Image|endswith: '\\bitsadmin.exe'
    CommandLine|re: '/transfer\\s'
  condition: selection_a or selection_b
level: medium
`)
    const query = [
      `${SYSMON1} Image="*\\\\certutil.exe" CommandLine="* -urlcache *"`,
      '| rex field=CommandLine "(?<CommandLineMatch>/transfer\\s)"',
      '| eval CommandLineCondition=if(isnotnull(CommandLineMatch), "true", "false")',
      '| search OR (Image="*\\\\bitsadmin.exe" CommandLineCondition="true")',
    ].join('\n')
    const events = eventsForRule(r).events
    const v = await verifyQuery(r, 'spl', query, events)
    expect(v.agrees).toBe(false)
    expect(v.actual).toBeUndefined()
    expect(v.diagnostics.map((d) => d.code)).toEqual(['verify/parse'])
    expect(v.diagnostics[0]!.message).toMatch(/cannot begin with OR/)
    // Read charitably (the OR dropped), `search A | … | search B` keeps only events matching both.
    const charitable = await verifyQuery(r, 'spl', query.replace('| search OR (', '| search ('), events)
    expect(charitable.agrees).toBe(false)
    const bad = disagreeing(charitable)
    expect(bad.length).toBeGreaterThan(0)
    for (const b of bad) expect(b).toMatchObject({ rule: true, query: false })
    expect(bad.some((b) => /certutil/i.test(String(b.event.Image)))).toBe(true)
    expect(bad.some((b) => /bitsadmin/i.test(String(b.event.Image)))).toBe(true)
  })
})
