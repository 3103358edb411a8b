/**
 * Equivalence: for every construct, the reference evaluator and the kql verifier (reading only the
 * emitted text) select the same adversarial events, in both schema families; and every emitted
 * query passes Microsoft's parser (Kusto.Language) bound to the family's tables.
 */
import { withOrigin } from '../../src/origin.js'
import { afterAll, describe, expect, test } from 'vitest'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkKql } from '../../src/verify/kql-parser.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { and, not, or, type Node } from '../../src/ast/nodes.js'
import type { JsonEvent, LogSource } from '../../src/rule/rule.js'
import { contains, endswith, is, match, pat, rule, startswith, PROCESS } from './helpers.js'

const tally = { constructs: 0, events: 0, pairs: 0, mismatches: 0, refused: 0, parserChecked: 0, parserErrors: 0 }

/** Hostile text: case variants, wildcard look-alikes, quotes, escapes, controls, non-ASCII. */
const TEXT = [
  '',
  'abc',
  'ABC',
  'aBc',
  'xabcx',
  'XABCX',
  'a*c',
  'a?c',
  'abbc',
  'ac',
  'a\\c',
  'a\\\\c',
  'a"c',
  "a'c",
  'a=c',
  'a%c',
  'a_c',
  'a.c',
  'a\nc',
  'a\rc',
  'a\tc',
  'trailing\\',
  '\\',
  '"',
  "'",
  '*',
  '?',
  ' abc ',
  'C:\\Windows\\System32\\cmd.exe',
  'c:\\windows\\system32\\CMD.EXE',
  'cmd.exe',
  '\\cmd.exe',
  'C:\\x\\cmd.exe.bak',
  'D:\\cmd.exe\\y',
  'É',
  'é',
  'Été',
  'été',
  'ÉTÉ',
  'ß',
  'ẞ',
  'SS',
  'ss',
  'straße',
  'STRASSE',
  '😀',
  'a😀c',
  'a😀😀c',
  '日本語',
  'whoami /all',
  'WHOAMI /ALL',
  '-enc',
  '/enc',
  '{x}',
  '[ab]',
  '(a|b)',
  '$^',
  '10.1.2.3',
  '4624',
]

/** String-field events: each value in every mapped string field, plus missing, null, numbers, booleans. */
const STRING_EVENTS: JsonEvent[] = [
  {},
  { CommandLine: null, Image: null, ParentImage: null },
  { CommandLine: 123, Image: 4624 },
  { CommandLine: true, Image: false },
  { CommandLine: 1.5 },
  ...TEXT.map((v) => ({ CommandLine: v, Image: v, ParentImage: v })),
  ...TEXT.map((v, i) => ({
    CommandLine: v,
    Image: TEXT[(i + 7) % TEXT.length]!,
    ParentImage: TEXT[(i + 3) % TEXT.length]!,
  })),
]

async function expectEquivalent(
  name: string,
  detection: Node,
  events: readonly JsonEvent[],
  logsource: LogSource = PROCESS,
  variants = ['defender', 'sentinel'],
) {
  for (const variant of variants) {
    const r = rule(detection, logsource)
    const eq = await checkEquivalence(r, events, backend, verifier, { variant })
    if (eq.query === undefined) {
      throw new Error(`${name} (${variant}) was refused: ${eq.diagnostics.map((d) => d.message).join('; ')}`)
    }
    expect(
      eq.diagnostics.filter((d) => d.severity === 'error'),
      `${name} (${variant}): ${eq.query}`,
    ).toEqual([])
    expect(eq.actual).toBeDefined()
    tally.constructs++
    tally.events += events.length
    tally.pairs += events.length
    tally.mismatches += eq.mismatches.length
    expect(eq.mismatches, `${name} (${variant}): ${eq.query}`).toEqual([])
    const parser = await checkKql(eq.query, variant)
    tally.parserChecked++
    tally.parserErrors += parser.length
    expect(parser, eq.query).toEqual([])
  }
}

/** Values put into patterns: every hostile character class at least once. */
const VALUES = [
  'abc',
  'a*c',
  'a?c',
  'a"c',
  "a'c",
  'a\\c',
  'trailing\\',
  'a=c',
  'a%c',
  'a_c',
  'a.c',
  'É',
  'été',
  'ß',
  '😀',
  'a\tc',
  'a\nc',
  'a\rc',
  '4624',
  'whoami /all',
  '(a|b)',
]

describe('string constructs (CommandLine, both families)', () => {
  for (const v of VALUES) {
    for (const cased of [false, true]) {
      const tag = `${JSON.stringify(v)}${cased ? ' cased' : ''}`
      test(`exact, contains, startswith, endswith and their negations: ${tag}`, async () => {
        for (const [kind, node] of [
          ['exact', is('CommandLine', v, cased)],
          ['contains', contains('CommandLine', v, cased)],
          ['startswith', startswith('CommandLine', v, cased)],
          ['endswith', endswith('CommandLine', v, cased)],
        ] as const) {
          await expectEquivalent(`${kind} ${tag}`, node, STRING_EVENTS)
          await expectEquivalent(`not ${kind} ${tag}`, not(node), STRING_EVENTS)
        }
      })
    }
  }
})

describe('wildcard patterns', () => {
  const PATTERNS = [
    'a*c',
    'a?c',
    '*\\\\*',
    '?',
    '??',
    '*?',
    'a\\*c*',
    'É*',
    '*😀?',
    '*.exe',
    'c:\\*\\cmd.exe',
    '*a*b*c*',
    'a\\?c',
    '?*?',
    '*"*',
    "*'*",
    '*%*',
    '*_*',
    '*=*',
    '*\\\\',
  ]
  for (const p of PATTERNS) {
    for (const cased of [false, true]) {
      test(`${p}${cased ? ' cased' : ''}`, async () => {
        await expectEquivalent(p, match('CommandLine', pat(p), cased), STRING_EVENTS)
        await expectEquivalent(`not ${p}`, not(match('CommandLine', pat(p), cased)), STRING_EVENTS)
      })
    }
  }
})

describe('paths and lists', () => {
  test('Image endswith \\name (the FileName column in Defender), exact paths, lists', async () => {
    await expectEquivalent('endswith name', endswith('Image', '\\cmd.exe'), STRING_EVENTS)
    await expectEquivalent('endswith name cased', endswith('Image', '\\cmd.exe', true), STRING_EVENTS)
    await expectEquivalent('not endswith name', not(endswith('Image', '\\cmd.exe')), STRING_EVENTS)
    await expectEquivalent('endswith deeper', endswith('Image', '\\System32\\cmd.exe'), STRING_EVENTS)
    await expectEquivalent('exact path', is('Image', 'C:\\Windows\\System32\\cmd.exe'), STRING_EVENTS)
    await expectEquivalent(
      'list',
      or([endswith('Image', '\\cmd.exe'), endswith('Image', '\\a"c'), is('Image', 'abc'), is('Image', 'É')]),
      STRING_EVENTS,
    )
    await expectEquivalent(
      'cased list',
      or([is('CommandLine', 'abc', true), is('CommandLine', 'ABC', true), is('CommandLine', 'a\\c', true)]),
      STRING_EVENTS,
    )
    await expectEquivalent(
      'ci list',
      not(or([is('CommandLine', 'abc'), is('CommandLine', 'a\\c'), is('CommandLine', "a'c")])),
      STRING_EVENTS,
    )
    await expectEquivalent('parent', endswith('ParentImage', '\\cmd.exe'), STRING_EVENTS)
  })
  test('and / or / not nesting across fields', async () => {
    const n = or([
      and([endswith('Image', '\\cmd.exe'), not(contains('CommandLine', 'abc'))]),
      and([or([contains('CommandLine', 'a"c'), startswith('CommandLine', 'É')]), not(match('Image', pat('*a?c*')))]),
    ])
    await expectEquivalent('nested', n, STRING_EVENTS)
    await expectEquivalent('not nested', not(n), STRING_EVENTS)
  })
})

describe('regular expressions', () => {
  const REGEXES: Array<[string, { i: boolean; m: boolean; s: boolean }]> = [
    ['a.c', { i: false, m: false, s: false }],
    ['a.c', { i: false, m: false, s: true }],
    ['^a', { i: false, m: false, s: false }],
    ['c$', { i: true, m: false, s: false }],
    ['\\d+', { i: false, m: false, s: false }],
    ['a\\sc', { i: false, m: false, s: false }],
    ['a\\Sc', { i: false, m: false, s: false }],
    ['[a-c]+x', { i: true, m: false, s: false }],
    ['(?:ab|bc)c', { i: false, m: false, s: false }],
    ['(ab|b)c', { i: true, m: false, s: false }],
    ['\\\\', { i: false, m: false, s: false }],
    ['"', { i: false, m: false, s: false }],
    ['\\x41\\u0062', { i: false, m: false, s: false }],
    ['[^a-z]', { i: false, m: false, s: false }],
    ['[\\s\\d]', { i: false, m: false, s: false }],
    ['\\bcmd\\b', { i: true, m: false, s: false }],
    ['é', { i: true, m: false, s: false }],
    ['a{2}', { i: false, m: false, s: false }],
    ['a{,', { i: false, m: false, s: false }],
    ['[-a]', { i: false, m: false, s: false }],
    ['\\.exe$', { i: true, m: false, s: false }],
    ['^.$', { i: false, m: false, s: false }],
    ['a.?c', { i: false, m: false, s: false }],
    ['a.*c', { i: false, m: false, s: true }],
    ['[^\\\\]+\\.exe', { i: true, m: false, s: false }],
    ['a\\Wc', { i: false, m: false, s: false }],
    ['\\D$', { i: false, m: false, s: false }],
    ['x|[^a]', { i: false, m: false, s: false }],
    ['😀', { i: false, m: false, s: false }],
  ]
  for (const [source, flags] of REGEXES) {
    test(`/${source}/${flags.i ? 'i' : ''}${flags.s ? 's' : ''}`, async () => {
      const node: Node = { kind: 'Regex', field: 'CommandLine', source, flags }
      await expectEquivalent(source, node, STRING_EVENTS)
      await expectEquivalent(`not ${source}`, not(node), STRING_EVENTS)
    })
  }
})

describe('cidr, numbers, presence (Defender network and process tables, Sentinel security)', () => {
  const NETWORK: LogSource = { product: 'windows', category: 'network_connection' }
  const IPS = [
    'fe80::1',
    'FE80::a:b',
    'fe80:0:0:0:0:0:0:1',
    'fe81::1',
    'febf:ffff::',
    'fec0::',
    '::',
    '::1',
    '::0.0.0.1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    ':1::',
    'fe80::1%eth0',
    'fe80::/10',
    '::ffff:10.1.2.300',
    '::ffff:c0a8:101',
    '::ffff:192.168.1.1',
    '2001:db8::',
    '2001:0db8:0000::1',
    '12345::',
    'g::1',
    '10.1.2.3',
    '10.0.0.0',
    '10.255.255.255',
    '11.0.0.1',
    '9.255.255.255',
    '010.1.2.3',
    '10.1.2',
    '10.1.2.3.4',
    '10.0.0.256',
    '10.1.2.3/8',
    ' 10.1.2.3',
    '::1',
    '::ffff:10.1.2.3',
    'fe80::1',
    '',
    'abc',
    '192.168.1.1',
  ]
  const IP_EVENTS: JsonEvent[] = [
    {},
    { DestinationIp: null },
    { DestinationIp: 10 },
    ...IPS.map((ip) => ({ DestinationIp: ip })),
  ]
  test('IPv4 and IPv6 CIDR and their negations', async () => {
    for (const cidr of [
      '10.0.0.0/8',
      '192.168.0.0/16',
      '10.1.2.3/32',
      '0.0.0.0/0',
      'fe80::/10',
      '::1/128',
      '::/0',
      '::ffff:0:0/96',
      '2001:db8::/32',
      'fc00::/7',
    ]) {
      const node: Node = { kind: 'Cidr', field: 'DestinationIp', cidr, family: cidr.includes(':') ? 6 : 4 }
      await expectEquivalent(cidr, node, IP_EVENTS, NETWORK, ['defender'])
      await expectEquivalent(`not ${cidr}`, not(node), IP_EVENTS, NETWORK, ['defender'])
    }
  })
  const NUM_EVENTS: JsonEvent[] = [
    {},
    { ProcessId: null, ParentProcessId: null },
    { ProcessId: 5 },
    { ProcessId: 10, ParentProcessId: 10 },
    { ProcessId: '10', ParentProcessId: 11 },
    { ProcessId: -1 },
    { ProcessId: 0 },
    { ProcessId: 4624 },
    { ProcessId: '4624' },
    { ProcessId: 46, ParentProcessId: 46 },
    { ParentProcessId: 3 },
    { ProcessId: 9007199254740991 },
  ]
  test('numeric comparisons, exists/null, field references and values on a long column', async () => {
    for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
      for (const value of [10, -1, 0, 9.5]) {
        const node: Node = { kind: 'Compare', field: 'ProcessId', op, value }
        await expectEquivalent(`${op} ${value}`, node, NUM_EVENTS, PROCESS, ['defender'])
        await expectEquivalent(`not ${op} ${value}`, not(node), NUM_EVENTS, PROCESS, ['defender'])
      }
    }
    for (const node of [
      { kind: 'Exists', field: 'ProcessId' },
      { kind: 'Null', field: 'ProcessId' },
      { kind: 'FieldRef', field: 'ProcessId', ref: 'ParentProcessId', cased: false },
      is('ProcessId', '10'),
      is('ProcessId', '010'),
      is('ProcessId', '-1'),
      match('ProcessId', pat('46*')),
      match('ProcessId', pat('?')),
      { kind: 'Regex', field: 'ProcessId', source: '^4\\d', flags: { i: false, m: false, s: false } },
      or([is('ProcessId', '5'), is('ProcessId', '10')]),
    ] as Node[]) {
      await expectEquivalent(JSON.stringify(node), node, NUM_EVENTS, PROCESS, ['defender'])
      await expectEquivalent(`not ${JSON.stringify(node)}`, not(node), NUM_EVENTS, PROCESS, ['defender'])
    }
  })
  test('Sentinel SecurityEvent: EventID (int) and string columns', async () => {
    const SECURITY: LogSource = { product: 'windows', service: 'security' }
    const events: JsonEvent[] = [
      {},
      { EventID: 4624, TargetUserName: 'Admin' },
      { EventID: '4624', LogonType: 3 },
      { EventID: 4625, LogonType: '10' },
      { EventID: 46, TargetUserName: 'admin$' },
      { EventID: null, TargetUserName: 'ADMIN' },
      { TargetUserName: 'É' },
    ]
    const n = and([or([is('EventID', '4624'), is('EventID', '4625')]), not(endswith('TargetUserName', '$'))])
    await expectEquivalent('security', n, events, SECURITY, ['sentinel'])
    await expectEquivalent(
      'logon type',
      { kind: 'Compare', field: 'LogonType', op: 'gte', value: 10 },
      events,
      SECURITY,
      ['sentinel'],
    )
    await expectEquivalent('eventid pattern', not(match('EventID', pat('462?'))), events, SECURITY, ['sentinel'])
  })
})

describe('events a KQL table cannot hold', () => {
  test('a column the query does not read never makes an event unrepresentable', async () => {
    const v = await verifier.verify(
      'DeviceProcessEvents\n| where ProcessCommandLine contains "a"',
      withOrigin(
        [{ CommandLine: 'a', ProcessId: 'abc', LogonId: '0x3E7' }],
        rule(contains('CommandLine', 'a')).logsource,
      ),
    )
    expect([v.matches, v.unrepresentable, v.leftOut]).toEqual([[true], [], []])
  })
  test('a Windows logon id in hex text is the long Defender stores', async () => {
    const events = withOrigin(
      [{ LogonId: '0x3e7' }, { LogonId: '0x529ae3' }, { LogonId: 999 }],
      rule(contains('CommandLine', 'a')).logsource,
    )
    const v = await verifier.verify('DeviceProcessEvents\n| where LogonId == 999', events)
    expect([v.matches, v.unrepresentable]).toEqual([[true, false, true], []])
  })
  test('a list in a string column, or text in a numeric column, is reported as unrepresentable, not guessed', async () => {
    const reads = 'DeviceProcessEvents\n| where ProcessCommandLine contains "a" or ProcessId == 1'
    for (const event of [
      { CommandLine: ['a', 'b'] },
      { CommandLine: { x: 1 } },
      { ProcessId: 'abc' },
      { ProcessId: '010' },
      { ProcessId: 1.5 },
      { LogonId: '0x3E7' }, // not the form Windows writes
    ]) {
      const query = 'LogonId' in event ? 'DeviceProcessEvents\n| where LogonId == 999' : reads
      const v = await verifier.verify(query, withOrigin([event], rule(contains('CommandLine', 'a')).logsource))
      expect(v.unrepresentable).toEqual([0])
      expect(v.leftOut?.map((l) => l.index)).toEqual([0])
      expect(v.diagnostics[0]).toMatchObject({
        code: 'verify/unrepresentable-event',
        severity: 'warning',
        target: 'kql',
      })
    }
  })
})

afterAll(() => {
  // The figures the report quotes: constructs × events checked, mismatches, parser runs.
  console.log(
    `kql equivalence: ${tally.constructs} construct runs, ${tally.pairs} (construct, event) pairs, ${tally.mismatches} mismatches; Microsoft's parser checked ${tally.parserChecked} queries, ${tally.parserErrors} errors`,
  )
  expect(tally.mismatches).toBe(0)
  expect(tally.parserErrors).toBe(0)
})

describe('long chains keep their meaning when nested', () => {
  test('an OR of 300 values and an AND of 100 negations', async () => {
    const values = Array.from({ length: 300 }, (_, i) => contains('CommandLine', `v${i}x`))
    const events: JsonEvent[] = [
      {},
      { CommandLine: 'v17x' },
      { CommandLine: 'V299X' },
      { CommandLine: 'v300x' },
      { CommandLine: 'n5' },
      { CommandLine: 'abc' },
    ]
    await expectEquivalent('or300', or(values), events)
    await expectEquivalent(
      'and100',
      and(Array.from({ length: 100 }, (_, i) => not(contains('CommandLine', `n${i}`)))),
      events,
    )
  })
})
