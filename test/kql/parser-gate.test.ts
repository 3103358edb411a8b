/** Microsoft's parser (Kusto.Language) as the gate: emitted queries bind, bad ones are reported. */
import { describe, expect, test } from 'vitest'
import { checkKql } from '../../src/verify/kql-parser.js'
import { backend } from '../../src/backends/kql.js'
import { and, not, or } from '../../src/ast/nodes.js'
import { contains, endswith, is, match, pat, rule } from './helpers.js'
import type { Node } from '../../src/ast/nodes.js'
import type { LogSource } from '../../src/rule/rule.js'

describe('checkKql', () => {
  test('accepts a valid query bound to the Defender and Sentinel tables', async () => {
    expect(
      await checkKql(
        'DeviceProcessEvents\n| where FileName =~ "sc.exe" and ProcessCommandLine contains "stop"',
        'defender',
      ),
    ).toEqual([])
    expect(
      await checkKql('SecurityEvent\n| where EventID == 4688\n| where NewProcessName endswith @"\\sc.exe"', 'sentinel'),
    ).toEqual([])
    // WindowsEvent's Sysmon 1 and Security 4688 rows in one where, each under its own conditions.
    const branched = backend.compile(
      rule(and([endswith('Image', '\\a.exe'), not({ kind: 'Null', field: 'CommandLine' })]), {
        product: 'windows',
        category: 'process_creation',
      }),
      { variant: 'sentinel' },
    ).query!
    expect(branched).toContain('EventID == 4688')
    expect(await checkKql(branched, 'sentinel')).toEqual([])
  })
  test('reports unknown columns, bad escapes and syntax errors with their place in the query', async () => {
    const unknown = await checkKql('DeviceProcessEvents\n| where Nope == "x"', 'defender')
    expect(unknown[0]).toMatchObject({
      code: 'target/kql-parser',
      severity: 'error',
      target: 'kql',
      at: { line: 1, col: 8 },
    })
    expect(unknown[0]!.message).toContain('Nope')
    expect((await checkKql('DeviceProcessEvents | where FileName == "\\sc.exe"', 'defender')).length).toBeGreaterThan(0)
    expect((await checkKql('DeviceProcessEvents | where (FileName == "x"', 'defender')).length).toBeGreaterThan(0)
    // A Sentinel table is unknown to the Defender schema, and the reverse.
    expect((await checkKql('SecurityEvent | where EventID == 1', 'defender')).length).toBeGreaterThan(0)
  })
  test('every shape the backend emits passes, in both families', async () => {
    const d = or([
      and([endswith('Image', '\\a.exe'), not(contains('CommandLine', 'x"y\\z'))]),
      match('CommandLine', pat('a*b?c')),
      is('CommandLine', 'a\rb'),
      contains('CommandLine', 'Été'),
      or([is('ParentImage', 'C:\\p.exe'), is('ParentImage', "q'")]),
      { kind: 'Regex', field: 'CommandLine', source: '\\s+-e(nc)?\\s', flags: { i: true, m: false, s: false } },
    ])
    for (const variant of ['defender', 'sentinel']) {
      const c = backend.compile(rule(d), { variant })
      expect(c.query).toBeDefined()
      expect(await checkKql(c.query!, variant), c.query).toEqual([])
    }
    const net = backend.compile(
      rule(
        and([
          { kind: 'Cidr', field: 'DestinationIp', cidr: '10.0.0.0/8', family: 4 },
          { kind: 'Compare', field: 'DestinationPort', op: 'gt', value: 1024 },
          is('DestinationPort', '445'),
        ]),
        { product: 'windows', category: 'network_connection' },
      ),
    )
    expect(await checkKql(net.query!, 'defender'), net.query).toEqual([])
  })
  test('keys of a bag (WindowsEvent.EventData) bind, in one run over Defender and Sentinel', async () => {
    const variant = 'defender,sentinel'
    const cases: Array<[Node, LogSource]> = [
      [
        or([
          contains('ScriptBlockText', 'x"y\\z'),
          match('ScriptBlockText', pat('a*b?c')),
          is('ScriptBlockText', 'Été'),
          or([is('Path', 'a'), is('Path', 'b')]),
          { kind: 'Regex', field: 'ScriptBlockText', source: '\\s+-e(nc)?\\s', flags: { i: true, m: false, s: false } },
          { kind: 'Null', field: 'Path', at: { line: 1, col: 1 } },
          { kind: 'Exists', field: 'and', at: { line: 1, col: 1 } },
          is('Data Name', 'x'),
        ]),
        { product: 'windows', category: 'ps_script' },
      ],
      [and([is('EventID', '7045'), contains('ImagePath', 'x')]), { product: 'windows', service: 'system' }],
      [or([contains('PipeName', 'y'), is('PipeName', '\\x')]), { product: 'windows', category: 'pipe_created' }],
    ]
    for (const [d, ls] of cases) {
      const c = backend.compile(rule(d, ls), { variant })
      expect(c.query, JSON.stringify(c.diagnostics)).toContain('WindowsEvent')
      expect(await checkKql(c.query!, variant), c.query).toEqual([])
    }
    const aws = backend.compile(
      rule(
        and([
          is('eventName', 'PutBucketPolicy'),
          contains('requestParameters.bucketName', 'x'),
          is('userIdentity.type', 'Root'),
        ]),
        { product: 'aws', service: 'cloudtrail' },
      ),
      { variant },
    )
    expect(await checkKql(aws.query!, variant), aws.query).toEqual([])
    const asim = 'defender,sentinel,asim'
    for (const ls of [{ category: 'proxy' }, { category: 'dns' }] as LogSource[]) {
      const field = ls.category === 'proxy' ? 'c-useragent' : 'query'
      const c = backend.compile(rule(contains(field, 'x'), ls), { variant: asim })
      expect(c.query, JSON.stringify(c.diagnostics)).toMatch(/^_Im_/)
      expect(await checkKql(c.query!, asim), c.query).toEqual([])
    }
    // Zeek through the Corelight connector: a text, an int and an address column.
    const zeek = backend.compile(
      rule(
        and([
          is('query', 'x'),
          { kind: 'Compare', field: 'id.resp_p', op: 'lt', value: 1024 },
          { kind: 'Cidr', field: 'id.orig_h', cidr: '10.0.0.0/8', family: 4 },
        ]),
        { product: 'zeek', service: 'dns' },
      ),
      { variant: asim },
    )
    expect(zeek.query, JSON.stringify(zeek.diagnostics)).toMatch(/^Corelight_v3_dns_CL/)
    expect(await checkKql(zeek.query!, asim), zeek.query).toEqual([])
    // A query over Sentinel's 10,000 characters reads an EventData key once, through extend.
    const long = backend.compile(
      rule(or(Array.from({ length: 200 }, (_, i) => contains('ScriptBlockText', `Invoke-Thing${i}`))), {
        product: 'windows',
        category: 'ps_script',
      }),
      { variant },
    )
    expect(long.query).toContain('| extend ScriptBlockText = tostring(EventData.ScriptBlockText)')
    expect(await checkKql(long.query!, variant), long.query).toEqual([])
    // A key the table's bag does not have is still a key (EventData is dynamic), but a column it lacks is not.
    expect((await checkKql('WindowsEvent | where Nope == "x"', variant)).length).toBeGreaterThan(0)
  })
})

test('an unknown schema family is a diagnostic, not an exception', async () => {
  expect((await checkKql('T | where a == 1', 'nope'))[0]).toMatchObject({
    code: 'target/kql-parser',
    severity: 'error',
  })
})

describe('long chains', () => {
  test("hundreds of alternatives nest in parentheses so that Microsoft's parser accepts them", async () => {
    const items = Array.from({ length: 400 }, (_, i) => contains('CommandLine', `v${i}x`))
    const c = backend.compile(rule(or(items)))
    expect(c.query!.split('(').length).toBeGreaterThan(6)
    expect(await checkKql(c.query!, 'defender')).toEqual([])
    const c2 = backend.compile(rule(and(Array.from({ length: 300 }, (_, i) => not(contains('CommandLine', `n${i}`))))))
    expect(await checkKql(c2.query!, 'defender')).toEqual([])
  })
})

describe('correlations', () => {
  test('every correlation type the kql target compiles binds to the Defender tables', async () => {
    const { loadRuleText } = await import('../../src/rule/load.js')
    const { resolveDocuments } = await import('../../src/correlation/resolve.js')
    const { correlationTarget } = await import('../../src/correlation/targets.js')
    const rules = `title: A\nname: a\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { Image|endswith: '\\\\a.exe' }, condition: sel }\nfields: [CommandLine]\n---\ntitle: B\nname: b\nlogsource: { product: windows, category: process_creation }\ndetection: { sel: { Image|endswith: '\\\\b.exe' }, condition: sel }\n`
    const bodies = [
      '{ type: event_count, rules: [a, b], group-by: [Computer], timespan: 5m, condition: { gte: 3, lt: 10 } }',
      '{ type: value_count, rules: [a], group-by: [Computer], timespan: 90s, condition: { field: CommandLine, gte: 3 } }',
      '{ type: temporal, rules: [a, b], group-by: [Computer], timespan: 1h }',
      '{ type: temporal_ordered, rules: [a, b], group-by: [Computer], timespan: 2d }',
    ]
    const kql = await correlationTarget('kql')
    for (const body of bodies) {
      const loaded = loadRuleText(`${rules}---\ntitle: C\ncorrelation: ${body}\n`, 'c.yml')
      const rc = resolveDocuments(loaded.rules, loaded.correlations, loaded.filters).correlations[0]!
      const compiled = await kql.compile(rc)
      expect(compiled.diagnostics).toEqual([])
      expect(await checkKql(compiled.query!, 'defender'), compiled.query).toEqual([])
    }
  })
})
