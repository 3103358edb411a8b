import { describe, expect, it } from 'vitest'
import { loadRuleText } from '../../src/rule/load.js'
import { resolveDocuments, type ResolvedCorrelation } from '../../src/correlation/resolve.js'
import { correlate } from '../../src/evaluate/correlate.js'
import { correlationTarget } from '../../src/correlation/targets.js'
import { withCorrelationOrigin } from '../../src/correlation/run.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { edgeStreams } from '../support/correlation-streams.js'

const RULES = `title: A
id: 6a1f0c1e-0000-4000-8000-00000000000a
name: rule_a
logsource: { product: windows, category: process_creation }
detection:
  sel: { Image|endswith: '\\a.exe' }
  condition: sel
fields: [CommandLine, ProcessId]
---
title: B
id: 6a1f0c1e-0000-4000-8000-00000000000b
name: rule_b
logsource: { product: windows, category: process_creation }
detection:
  sel: { Image|endswith: '\\b.exe' }
  condition: sel
fields: [CommandLine, ProcessId]
---
title: C
id: 6a1f0c1e-0000-4000-8000-00000000000c
name: rule_c
logsource: { product: windows, category: process_creation }
detection:
  sel: { Image|endswith: '\\c.exe' }
  condition: sel
fields: [CommandLine, ProcessId]
---
title: Any
id: 6a1f0c1e-0000-4000-8000-0000000000ff
name: rule_any
logsource: { product: windows, category: process_creation }
detection:
  sel: { Image|endswith: '.exe' }
  condition: sel
fields: [CommandLine, ProcessId]
`

const correlation = (body: string) => {
  const loaded = loadRuleText(`${RULES}---\ntitle: C\ncorrelation:\n${body}`, 'c.yml')
  const r = resolveDocuments(loaded.rules, loaded.correlations, loaded.filters)
  expect([...loaded.diagnostics, ...r.diagnostics]).toEqual([])
  return r.correlations[0]!
}

const T0 = Date.UTC(2026, 10, 30, 2, 14, 0)
const make = (member: number, group: string, value: string, ms: number): JsonEvent => ({
  // Where the event was logged: the verifiers place it by its origin, as they place a rule's events.
  _logsource: { product: 'windows', category: 'process_creation' },
  UtcTime: new Date(ms).toISOString(),
  Computer: group,
  Image: `C:\\t\\${'abc'[member]}.exe`,
  CommandLine: value,
  ProcessId: Number(value.slice(1)) + 1,
})
const byGroup = (gs: Record<string, string>[]) =>
  [...gs].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
const fired = (rc: ResolvedCorrelation, events: JsonEvent[]) =>
  byGroup(correlate(rc, events).matches.map((m) => ({ ...m.group })))

const TYPES: Record<string, string> = {
  event_count:
    '  type: event_count\n  rules: [rule_a, rule_b]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { gte: 3 }\n',
  value_count:
    '  type: value_count\n  rules: [rule_a]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { field: CommandLine, gte: 3 }\n',
  value_sum:
    '  type: value_sum\n  rules: [rule_a, rule_b]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { field: ProcessId, gte: 6 }\n',
  value_avg:
    '  type: value_avg\n  rules: [rule_a, rule_b]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { field: ProcessId, lt: 1.5 }\n',
  value_percentile:
    '  type: value_percentile\n  rules: [rule_a, rule_b]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { field: CommandLine, lte: 25 }\n',
  temporal: '  type: temporal\n  rules: [rule_a, rule_b]\n  group-by: [Computer]\n  timespan: 5m\n',
  temporal_ordered: '  type: temporal_ordered\n  rules: [rule_a, rule_b]\n  group-by: [Computer]\n  timespan: 5m\n',
}

describe('reference semantics at the window edges', () => {
  const count = correlation(TYPES['event_count']!)
  const at = (s: number, member = 0, host = 'WS1', v = `v${s}`) => make(member, host, v, T0 + s * 1000)

  it('counts an event exactly timespan after the first, and not one a second later', () => {
    expect(fired(count, [at(0), at(100), at(300)])).toEqual([{ Computer: 'WS1' }])
    expect(fired(count, [at(0), at(100), at(301)])).toEqual([])
    // One millisecond past the edge is out too.
    expect(fired(count, [at(0), at(100), make(0, 'WS1', 'x', T0 + 300_001)])).toEqual([])
  })

  it('slides: a burst across a five-minute clock boundary fires (a tumbling bin would split it)', () => {
    expect(fired(count, [at(290), at(299), at(301)])).toEqual([{ Computer: 'WS1' }])
  })

  it('keeps groups apart and counts an event two rules select once', () => {
    expect(fired(count, [at(0, 0, 'WS1'), at(1, 0, 'WS2'), at(2, 0, 'WS1')])).toEqual([])
    const both = correlation(TYPES['event_count']!.replace('[rule_a, rule_b]', '[rule_a, rule_b]'))
    const e = { ...at(0), Image: 'C:\\t\\a.exe' }
    expect(fired(both, [e, at(1)])).toEqual([])
  })

  it('orders temporal_ordered strictly: same instant or reverse order does not fire', () => {
    const ordered = correlation(TYPES['temporal_ordered']!)
    expect(fired(ordered, [at(0, 0), at(300, 1)])).toEqual([{ Computer: 'WS1' }])
    expect(fired(ordered, [at(0, 0), at(301, 1)])).toEqual([])
    expect(fired(ordered, [at(5, 1), at(5, 0)])).toEqual([])
    expect(fired(ordered, [at(5, 0), at(5, 1)])).toEqual([])
    expect(fired(ordered, [at(1, 1), at(5, 0)])).toEqual([])
  })

  it("selects, like a rule alone, only events of the referenced rule's log source when an event states its origin", () => {
    const { _logsource: _, ...unstated } = at(200)
    expect(fired(count, [at(0), at(100), at(200)])).toEqual([{ Computer: 'WS1' }])
    // Logged by Sysmon for Linux, or a System-log record: not a Windows process creation.
    expect(
      fired(count, [at(0), at(100), { ...at(200), _logsource: { product: 'linux', category: 'process_creation' } }]),
    ).toEqual([])
    expect(fired(count, [at(0), at(100), { ...unstated, Channel: 'System', EventID: 7036 }])).toEqual([])
    // A Sysmon event 1 record is a Windows process creation.
    expect(
      fired(count, [at(0), at(100), { ...unstated, Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1 }]),
    ).toEqual([{ Computer: 'WS1' }])
    // An event that states no origin is selected by the detection alone (the harness gives it one).
    expect(fired(count, [at(0), at(100), unstated])).toEqual([{ Computer: 'WS1' }])
  })

  it('gives events without an origin the log source all referenced rules read, and none when they read several', () => {
    const { _logsource: _, ...unstated } = at(0)
    expect(withCorrelationOrigin([unstated], count)).toEqual([
      { ...unstated, _logsource: { product: 'windows', category: 'process_creation' } },
    ])
    // Rule B logged by Sysmon for Linux: two log sources, no default.
    const text = `${RULES.replace(/(name: rule_b\nlogsource: \{ product: )windows/, '$1linux')}---\ntitle: C\ncorrelation:\n${TYPES['temporal']}`
    const loaded = loadRuleText(text, 'c.yml')
    const mixed = resolveDocuments(loaded.rules, loaded.correlations, loaded.filters).correlations[0]!
    expect(mixed.members.map((m) => (m.kind === 'rule' ? m.rule.logsource.product : ''))).toEqual(['windows', 'linux'])
    expect(withCorrelationOrigin([unstated], mixed)).toEqual([unstated])
  })

  it('reports events it cannot time instead of guessing', () => {
    const r = correlate(count, [{ Image: 'C:\\t\\a.exe', Computer: 'WS1', UtcTime: 'yesterday' }])
    expect(r.timeless).toEqual([{ index: 0, message: expect.stringContaining("'yesterday' is not ISO 8601") }])
  })
})

describe('osquery correlations agree with the reference on streams around every threshold and edge', async () => {
  const osquery = await correlationTarget('osquery')
  for (const [type, body] of Object.entries(TYPES)) {
    it(type, async () => {
      const rc = correlation(body)
      const compiled = await osquery.compile(rc)
      expect(compiled.diagnostics).toEqual([])
      const streams = edgeStreams({
        make,
        members: rc.members.length,
        spanMs: rc.correlation.timespan,
        threshold: 3,
        seed: 7,
      })
      let firing = 0
      for (const s of streams) {
        const want = fired(rc, s.events)
        const got = await osquery.verify(compiled.query!, s.events)
        expect(got.unrepresentable).toEqual([])
        expect({ stream: s.name, groups: byGroup(got.groups!.map((g) => ({ ...g.group }))) }).toEqual({
          stream: s.name,
          groups: want,
        })
        if (want.length) firing++
      }
      // The streams exercise both answers.
      expect(firing).toBeGreaterThan(0)
      expect(firing).toBeLessThan(streams.length)
    })
  }

  it("refuses to correlate a field of a rule read in another table than its log source's (the Sysmon and 4688 form)", async () => {
    const loaded = loadRuleText(
      `title: P\nid: 6a1f0c1e-0000-4000-8000-0000000000aa\nname: rule_p\nlogsource: { product: windows, category: process_creation }\ndetection:\n  sel: { ParentImage|endswith: '\\p.exe' }\n  condition: sel\nfields: [CommandLine]\n---\ntitle: C\ncorrelation:\n  type: value_count\n  rules: [rule_p]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { field: CommandLine, gte: 3 }\n`,
      'p.yml',
    )
    const rc = resolveDocuments(loaded.rules, loaded.correlations, loaded.filters).correlations[0]!
    const compiled = await osquery.compile(rc)
    expect(compiled.query).toBeUndefined()
    expect(compiled.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-correlation-rule'])
  })

  it('catches a query whose window is one second short or whose edge is open', async () => {
    const rc = correlation(TYPES['event_count']!)
    const query = (await osquery.compile(rc)).query!
    const streams = edgeStreams({ make, members: 2, spanMs: rc.correlation.timespan, threshold: 3 })
    const disagreements = async (q: string) => {
      let n = 0
      for (const s of streams) {
        const got = await osquery.verify(q, s.events)
        if (JSON.stringify(byGroup(got.groups!.map((g) => ({ ...g.group })))) !== JSON.stringify(fired(rc, s.events)))
          n++
      }
      return n
    }
    expect(await disagreements(query)).toBe(0)
    expect(await disagreements(query.replace('a.time + 300', 'a.time + 299'))).toBeGreaterThan(0)
    expect(
      await disagreements(
        query.replace(/b\.time BETWEEN a\.time AND a\.time \+ 300/, 'b.time >= a.time AND b.time < a.time + 300'),
      ),
    ).toBeGreaterThan(0)
    expect(await disagreements(query.replace('>= 3', '> 3'))).toBeGreaterThan(0)
  })
})

// Microsoft's parser binds these queries in test/kql/parser-gate.test.ts (where it is loaded anyway).
describe('kql correlations agree with the reference on streams around every threshold and edge', async () => {
  const kql = await correlationTarget('kql')
  for (const type of ['event_count', 'value_count', 'temporal', 'temporal_ordered']) {
    it(type, async () => {
      const rc = correlation(TYPES[type]!)
      const compiled = await kql.compile(rc)
      expect(compiled.diagnostics).toEqual([])
      const streams = edgeStreams({
        make,
        members: rc.members.length,
        spanMs: rc.correlation.timespan,
        threshold: 3,
        seed: 11,
      })
      for (const s of streams) {
        const got = await kql.verify(compiled.query!, s.events)
        expect(got.diagnostics).toEqual([])
        expect({ stream: s.name, groups: byGroup(got.groups!.map((g) => ({ ...g.group }))) }).toEqual({
          stream: s.name,
          groups: fired(rc, s.events),
        })
      }
    })
  }

  it('catches a shortened window, an open edge, a tumbling bin and a weaker threshold', async () => {
    const rc = correlation(TYPES['value_count']!)
    const query = (await kql.compile(rc)).query!
    const streams = edgeStreams({ make, members: 1, spanMs: rc.correlation.timespan, threshold: 3 })
    const wrong = async (q: string) => {
      let n = 0
      for (const s of streams) {
        const got = await kql.verify(q, s.events)
        if (
          !got.groups ||
          JSON.stringify(byGroup(got.groups.map((g) => ({ ...g.group })))) !== JSON.stringify(fired(rc, s.events))
        )
          n++
      }
      return n
    }
    expect(await wrong(query)).toBe(0)
    expect(await wrong(query.replace('EventTime + 5m', 'EventTime + 4m'))).toBeGreaterThan(0)
    expect(await wrong(query.replace('>= 3', '> 3'))).toBeGreaterThan(0)
    expect(
      await wrong(
        query.replace('| summarize WindowValue', '| extend Bin = bin(EventTime, 5m)\n| summarize WindowValue'),
      ),
    ).toBeGreaterThan(0)
  })
})

describe('spl correlations agree with the reference on streams around every threshold and edge', async () => {
  const spl = await correlationTarget('spl')
  const SPL_TYPES: Record<string, string> = {
    event_count:
      '  type: event_count\n  rules: [rule_a]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { gte: 3 }\n',
    // rule_a's events are rule_any's too: each counts once.
    'event_count over two rules':
      '  type: event_count\n  rules: [rule_a, rule_any]\n  group-by: [Computer]\n  timespan: 5m\n  condition: { gte: 3 }\n',
    value_count: TYPES['value_count']!,
    temporal: TYPES['temporal']!,
    temporal_ordered: TYPES['temporal_ordered']!,
  }
  const groupsOn = async (query: string, events: JsonEvent[]) => {
    const got = await spl.verify(query, events)
    return got.groups ? byGroup(got.groups.map((g) => ({ ...g.group }))) : got.diagnostics
  }
  for (const [type, body] of Object.entries(SPL_TYPES)) {
    it(type, async () => {
      const rc = correlation(body)
      const compiled = await spl.compile(rc)
      expect(compiled.diagnostics).toEqual([])
      const streams = edgeStreams({
        make,
        members: rc.members.length,
        spanMs: rc.correlation.timespan,
        threshold: 3,
        seed: 13,
      })
      let firing = 0
      for (const s of streams) {
        const want = fired(rc, s.events)
        expect({ stream: s.name, groups: await groupsOn(compiled.query!, s.events) }).toEqual({
          stream: s.name,
          groups: want,
        })
        if (want.length) firing++
      }
      expect(firing).toBeGreaterThan(0)
      expect(firing).toBeLessThan(streams.length)
    })
  }

  it('holds at the window edge: exactly the timespan (in), the timespan + 1 s and + 1 ms (out), N − 1 values, wrong order', async () => {
    const at = (s: number, member = 0, v = `v${s}`) => make(member, 'WS1', v, T0 + s * 1000)
    const run = async (type: string, events: JsonEvent[]) =>
      groupsOn((await spl.compile(correlation(SPL_TYPES[type]!))).query!, events)
    const WS1 = [{ Computer: 'WS1' }]
    for (const type of ['event_count', 'value_count']) {
      expect(await run(type, [at(0), at(100), at(300)]), type).toEqual(WS1)
      expect(await run(type, [at(0), at(100), at(301)]), type).toEqual([])
      expect(await run(type, [at(0), at(100), make(0, 'WS1', 'x', T0 + 300_001)]), type).toEqual([])
    }
    // N − 1 distinct values: three events, two values.
    expect(await run('value_count', [at(0, 0, 'a'), at(10, 0, 'b'), at(20, 0, 'a')])).toEqual([])
    expect(await run('temporal_ordered', [at(0, 0), at(300, 1)])).toEqual(WS1)
    expect(await run('temporal_ordered', [at(0, 0), at(301, 1)])).toEqual([])
    expect(await run('temporal_ordered', [at(0, 1), at(10, 0)])).toEqual([])
    expect(await run('temporal_ordered', [at(5, 0), at(5, 1)])).toEqual([])
    expect(await run('temporal', [at(0, 1), at(300, 0)])).toEqual(WS1)
    expect(await run('temporal', [at(0, 1), at(301, 0)])).toEqual([])
  })

  it('catches a shortened window, a shared count window, no sort, equal times in rule order and a weaker threshold', async () => {
    const wrong = async (type: string, mutate?: (q: string) => string) => {
      const rc = correlation(SPL_TYPES[type]!)
      const query = (await spl.compile(rc)).query!
      const mutated = mutate ? mutate(query) : query
      if (mutate) expect(mutated, 'the mutation applies').not.toBe(query)
      let n = 0
      const streams = edgeStreams({
        make,
        members: rc.members.length,
        spanMs: rc.correlation.timespan,
        threshold: 3,
        seed: 3,
      })
      for (const s of streams)
        if (JSON.stringify(await groupsOn(mutated, s.events)) !== JSON.stringify(fired(rc, s.events))) n++
      return n
    }
    for (const type of Object.keys(SPL_TYPES)) expect(await wrong(type)).toBe(0)
    expect(await wrong('event_count', (q) => q.replace('+300.0005', '+299.0005'))).toBeGreaterThan(0)
    expect(await wrong('event_count', (q) => q.replace(' global=false', ''))).toBeGreaterThan(0)
    // Each rule as its own subsearch: an event both rules select is two results, counted twice.
    expect(
      await wrong('event_count over two rules', (q) => {
        const m = /^\((.*)\) OR \((.*)\) \| eval CorrelationMember=0, (.*)$/m.exec(q)!
        const head = `| multisearch [search ${m[1]} | eval CorrelationMember=0, ${m[3]}] [search ${m[2]} | eval CorrelationMember=1, ${m[3]}]`
        return q.replace(m[0], head)
      }),
    ).toBeGreaterThan(0)
    expect(await wrong('event_count', (q) => q.replace('>=3', '>3'))).toBeGreaterThan(0)
    expect(await wrong('value_count', (q) => q.replace('time_window=5m', 'time_window=4m'))).toBeGreaterThan(0)
    expect(await wrong('temporal', (q) => q.replace(/\n\| sort 0 _time, -CorrelationMember/, ''))).toBeGreaterThan(0)
    expect(
      await wrong('temporal_ordered', (q) => q.replace('-CorrelationMember', 'CorrelationMember')),
    ).toBeGreaterThan(0)
    // Half a millisecond short: the step exactly the timespan later falls out.
    expect(await wrong('temporal_ordered', (q) => q.replaceAll('+300.0005', '+299.9995'))).toBeGreaterThan(0)
  })

  it('chains of three rules: ordered and unordered, around the edges', async () => {
    for (const type of ['temporal', 'temporal_ordered']) {
      const rc = correlation(TYPES[type]!.replace('[rule_a, rule_b]', '[rule_a, rule_b, rule_c]'))
      const compiled = await spl.compile(rc)
      expect(compiled.diagnostics).toEqual([])
      const streams = edgeStreams({ make, members: 3, spanMs: rc.correlation.timespan, threshold: 3, seed: 17 })
      let firing = 0
      for (const s of streams) {
        const want = fired(rc, s.events)
        expect({ type, stream: s.name, groups: await groupsOn(compiled.query!, s.events) }).toEqual({
          type,
          stream: s.name,
          groups: want,
        })
        if (want.length) firing++
      }
      expect(firing, type).toBeGreaterThan(0)
    }
  })

  it('without group-by, the whole stream is one group (and stats on no input is one row of count 0)', async () => {
    const rc = correlation(SPL_TYPES['value_count']!.replace('  group-by: [Computer]\n', ''))
    const query = (await spl.compile(rc)).query!
    const streams = edgeStreams({ make, members: 1, spanMs: rc.correlation.timespan, threshold: 3, seed: 5 })
    let firing = 0
    for (const s of streams) {
      const want = fired(rc, s.events)
      expect({ stream: s.name, groups: await groupsOn(query, s.events) }).toEqual({ stream: s.name, groups: want })
      if (want.length) firing++
    }
    expect(firing).toBeGreaterThan(0)
    expect(await groupsOn(query.replace('\n| where count>0', ''), [])).toEqual([{}])
  })

  it('refuses what it cannot express exactly, with the reason', async () => {
    const reason = async (body: string) =>
      (await spl.compile(correlation(body))).diagnostics.map((d) => d.message).join()
    expect(await reason(TYPES['value_sum']!)).toMatch(/does not grow with its window/)
    expect(await reason(TYPES['value_avg']!)).toMatch(/does not grow with its window/)
    expect(await reason(TYPES['value_percentile']!)).toMatch(/does not grow with its window/)
    expect(await reason(SPL_TYPES['value_count']!.replace('gte: 3', 'lte: 3'))).toMatch(/upper bound/)
  })
})
