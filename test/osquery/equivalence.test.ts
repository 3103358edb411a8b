/**
 * Equivalence on a real SQLite: every construct, compiled to osquery SQL, executed by sql.js on
 * osquery-shaped tables with osquery's functions, must select exactly the events the reference
 * evaluator selects. Events are hostile on purpose (case, non-ASCII, wildcard look-alikes, quotes,
 * backslashes, NULL, numbers as text).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/osquery.js'
import { verifier, sqliteVersion } from '../../src/verify/osquery.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { osqueryModel, placeRow, type OsqueryModel } from '../../src/verify/osquery-events.js'
import { withOrigin } from '../../src/origin.js'
import type { JsonEvent, Rule } from '../../src/rule/rule.js'
import { sigma, WIN_PROC } from './helpers.js'

const SYS = 'product: windows\n  service: system'
const SEC = 'product: windows\n  service: security'
const SVC = 'product: windows\n  category: service_state'
const LINUX = 'product: linux\n  category: process_creation'

/** Values that break naive translations. Arrays and objects are in a separate test (no osquery row holds them). */
const HOSTILE: readonly unknown[] = [
  'stop',
  'STOP',
  'Stop',
  'sc stop x',
  'SC STOP X',
  'xstopx',
  '',
  ' ',
  'École',
  'école',
  'ÉCOLE',
  'É',
  'é',
  'straße',
  'STRAẞE',
  'STRASSE',
  'ß',
  'ẞ',
  'Ω',
  'ω',
  '😀',
  'a😀b',
  'ab',
  'a_b',
  'aXb',
  'a%b',
  'a*b',
  'a?b',
  'a\\b',
  'a\\',
  '\\',
  'a\\*b',
  'a[b',
  'a]b',
  "it's",
  'a"b',
  'a=b',
  '100%',
  '1000',
  'a\nb',
  'a\tb',
  'AB',
  'aB',
  'Ab',
  'C:\\Windows\\System32\\sc.exe',
  'c:\\windows\\system32\\SC.EXE',
  'C:\\Windows\\System32\\notsc.exe',
  'C:\\Windows\\System32\\sc.exe ',
  '4688',
  '04688',
  '46',
  '4688.0',
  ' 12 ',
  '12abc',
  '1e3',
  '\u00a05',
  '5',
  '-3',
  '+7',
  '.5',
  '3.',
  'true',
  4688,
  0,
  -1,
  1.5,
  12,
  3,
  true,
  false,
  null,
  '10.0.0.0',
  '10.255.255.255',
  '10.1.2.3',
  '010.1.2.3',
  '10.1.2',
  '11.0.0.1',
  '::1',
  '192.168.1.6',
  '192.168.1.7',
  '0.0.0.0',
  '255.255.255.255',
  'WinDefend',
  'windefend',
  'WINDEFEND',
]

/** Events for one field: each hostile value, plus the field missing. */
const eventsFor = (field: string, extra: JsonEvent = {}): JsonEvent[] => [
  { ...extra },
  ...HOSTILE.map((v) => ({ ...extra, [field]: v })),
]

/** Two fields: a smaller cross product. */
const pairsFor = (a: string, b: string, values: readonly unknown[]): JsonEvent[] => {
  const out: JsonEvent[] = [{}]
  for (const x of values) {
    out.push({ [a]: x }, { [b]: x })
    for (const y of values) out.push({ [a]: x, [b]: y })
  }
  return out
}
const FEW = ['stop', 'STOP', 'x', '', null, 'É', 'é', 'a_b', 'aXb', 4688, '4688']

interface Case {
  readonly name: string
  readonly detection: string
  readonly logsource?: string
  readonly events: readonly JsonEvent[]
  /** The construct can select no row osquery could hold (so the reference answers false throughout). */
  readonly none?: boolean
}

const d = (sel: string, condition = 'sel') => `  sel:\n${sel.replace(/^/gm, '    ')}\n  condition: ${condition}`

const CASES: Case[] = [
  { name: 'contains', detection: d("CommandLine|contains: 'stop'"), events: eventsFor('CommandLine') },
  { name: 'startswith a Windows path', detection: d("Image|startswith: 'C:\\Windows\\'"), events: eventsFor('Image') },
  { name: 'endswith', detection: d("Image|endswith: '\\sc.exe'"), events: eventsFor('Image') },
  { name: 'exact', detection: d("CommandLine: 'sc stop x'"), events: eventsFor('CommandLine') },
  { name: 'exact, mixed case letters', detection: d("CommandLine: 'aB'"), events: eventsFor('CommandLine') },
  { name: 'exact non-ASCII', detection: d("CommandLine: 'École'"), events: eventsFor('CommandLine') },
  { name: 'contains ß', detection: d("CommandLine|contains: 'straße'"), events: eventsFor('CommandLine') },
  {
    name: 'contains upper-case non-ASCII',
    detection: d("CommandLine|contains: 'É'"),
    events: eventsFor('CommandLine'),
  },
  { name: 'Greek omega (both cases present)', detection: d("CommandLine: 'Ω'"), events: eventsFor('CommandLine') },
  { name: '? wildcard', detection: d("CommandLine: 'a?b'"), events: eventsFor('CommandLine') },
  { name: '* inside', detection: d("CommandLine: 'a*b'"), events: eventsFor('CommandLine') },
  { name: 'escaped * literal', detection: d("CommandLine: 'a\\*b'"), events: eventsFor('CommandLine') },
  { name: 'escaped ? literal', detection: d("CommandLine|contains: 'a\\?b'"), events: eventsFor('CommandLine') },
  { name: '_ literal', detection: d("CommandLine|contains: 'a_b'"), events: eventsFor('CommandLine') },
  { name: '% literal', detection: d("CommandLine|endswith: '100%'"), events: eventsFor('CommandLine') },
  { name: 'trailing backslash', detection: d("CommandLine|endswith: 'a\\'"), events: eventsFor('CommandLine') },
  { name: 'backslash then wildcard', detection: d("CommandLine: 'a\\\\*'"), events: eventsFor('CommandLine') },
  { name: 'quotes', detection: d('CommandLine|contains:\n  - "it\'s"\n  - \'a"b\''), events: eventsFor('CommandLine') },
  {
    name: '= and brackets',
    detection: d("CommandLine|contains:\n  - 'a=b'\n  - 'a['\n  - ']b'"),
    events: eventsFor('CommandLine'),
  },
  { name: 'emoji', detection: d("CommandLine|contains: '😀'"), events: eventsFor('CommandLine') },
  { name: 'cased exact', detection: d("CommandLine|cased: 'Stop'"), events: eventsFor('CommandLine') },
  {
    name: 'cased contains non-ASCII',
    detection: d("CommandLine|cased|contains: 'É'"),
    events: eventsFor('CommandLine'),
  },
  { name: 'cased wildcard', detection: d("CommandLine|cased: 'a*B'"), events: eventsFor('CommandLine') },
  {
    name: 'cased literal * and [',
    detection: d("CommandLine|cased|contains:\n  - 'a\\*b'\n  - 'a['"),
    events: eventsFor('CommandLine'),
  },
  { name: 'cased ? wildcard', detection: d("CommandLine|cased: 'a?b'"), events: eventsFor('CommandLine') },
  { name: 'anything', detection: d("CommandLine: '*'"), events: eventsFor('CommandLine') },
  { name: 'empty value', detection: d("CommandLine: ''"), events: eventsFor('CommandLine') },
  { name: 'null', detection: d('CommandLine: null'), events: eventsFor('CommandLine') },
  { name: 'exists', detection: d('CommandLine|exists: true'), events: eventsFor('CommandLine') },
  { name: 'not exists', detection: d('CommandLine|exists: false'), events: eventsFor('CommandLine') },
  { name: 'neq', detection: d("CommandLine|neq: 'stop'"), events: eventsFor('CommandLine') },
  { name: 'not contains', detection: d("CommandLine|contains: 'stop'", 'not sel'), events: eventsFor('CommandLine') },
  { name: 'not cased glob', detection: d("CommandLine|cased: 'a*b'", 'not sel'), events: eventsFor('CommandLine') },
  { name: 'not non-ASCII', detection: d("CommandLine|contains: 'é'", 'not sel'), events: eventsFor('CommandLine') },
  { name: 'all', detection: d("CommandLine|contains|all:\n  - 'a'\n  - 'b'"), events: eventsFor('CommandLine') },
  {
    name: 'and / or / not across fields',
    detection:
      '  a:\n    CommandLine|contains: stop\n  b:\n    Image|contains: x\n  c:\n    User: null\n  condition: (a or b) and not c',
    events: [...pairsFor('CommandLine', 'Image', FEW), ...pairsFor('CommandLine', 'User', FEW)],
  },
  {
    name: 'not (a or b)',
    detection: '  a:\n    CommandLine|contains: stop\n  b:\n    Image: x\n  condition: not (a or b)',
    events: pairsFor('CommandLine', 'Image', FEW),
  },
  { name: 'integer column, canonical', detection: d('ProcessId: 4688'), events: eventsFor('ProcessId') },
  {
    name: 'integer column, leading zero',
    detection: d("ProcessId: '04688'"),
    events: eventsFor('ProcessId'),
    none: true,
  },
  { name: 'integer column, wildcard', detection: d("ProcessId|startswith: '46'"), events: eventsFor('ProcessId') },
  { name: 'integer column, not', detection: d('ProcessId: 4688', 'not sel'), events: eventsFor('ProcessId') },
  {
    name: 'event id and event data',
    detection: d("EventID: 7036\nparam1|contains: 'défender'"),
    logsource: SYS,
    events: pairsFor('EventID', 'param1', [7036, '7036', 7040, 'Défender', 'DÉFENDER', 'défender x', null, '']),
  },
  {
    name: 'event data exact',
    detection: d("ServiceName: 'WinDefend'"),
    logsource: SYS,
    events: eventsFor('ServiceName'),
  },
  { name: 'event data null', detection: d('ServiceName: null'), logsource: SYS, events: eventsFor('ServiceName') },
  {
    name: 'event data not',
    detection: d("ServiceName|contains: 'stop'", 'not sel'),
    logsource: SYS,
    events: eventsFor('ServiceName'),
  },
  {
    name: 'NOCASE column, case-insensitive',
    detection: d("ServiceName: 'windefend'"),
    logsource: SVC,
    events: eventsFor('ServiceName'),
  },
  {
    name: 'NOCASE column, cased',
    detection: d("ServiceName|cased: 'WinDefend'"),
    logsource: SVC,
    events: eventsFor('ServiceName'),
  },
  {
    name: 'NOCASE column, cased wildcard',
    detection: d("ServiceName|cased: 'Win*'"),
    logsource: SVC,
    events: eventsFor('ServiceName'),
  },
  {
    name: 'Linux process_events',
    detection: d("CommandLine|contains: 'stop'"),
    logsource: LINUX,
    events: eventsFor('CommandLine'),
  },
  { name: 'regex', detection: d("CommandLine|re: 'a.*b'"), events: eventsFor('CommandLine') },
  { name: 'regex anchored with digits', detection: d("CommandLine|re: '^[0-9]+$'"), events: eventsFor('CommandLine') },
  { name: 'regex i flag', detection: d("CommandLine|re|i: 'st[o-p]P'"), events: eventsFor('CommandLine') },
  { name: 'regex negated class repeated', detection: d("CommandLine|re: 'a[^b]+'"), events: eventsFor('CommandLine') },
  {
    name: 'regex on event data, not',
    detection: d("ServiceName|re: 'Def'", 'not sel'),
    logsource: SYS,
    events: eventsFor('ServiceName'),
  },
  { name: 'regex matching "0"', detection: d("CommandLine|re: '0'"), events: eventsFor('CommandLine') },
  { name: 'cidr /8', detection: d("IpAddress|cidr: '10.0.0.0/8'"), logsource: SEC, events: eventsFor('IpAddress') },
  {
    name: 'cidr /8, not',
    detection: d("IpAddress|cidr: '10.0.0.0/8'", 'not sel'),
    logsource: SEC,
    events: eventsFor('IpAddress'),
  },
  { name: 'cidr /32', detection: d("IpAddress|cidr: '10.1.2.3/32'"), logsource: SEC, events: eventsFor('IpAddress') },
  {
    name: 'cidr /31',
    detection: d("IpAddress|cidr: '192.168.1.6/31'"),
    logsource: SEC,
    events: eventsFor('IpAddress'),
  },
  { name: 'cidr /0', detection: d("IpAddress|cidr: '0.0.0.0/0'"), logsource: SEC, events: eventsFor('IpAddress') },
  { name: 'compare on an integer column', detection: d('ProcessId|gt: 12'), events: eventsFor('ProcessId') },
  {
    name: 'compare on an integer column, not',
    detection: d('ProcessId|lte: 12', 'not sel'),
    events: eventsFor('ProcessId'),
  },
  {
    name: 'compare on event data text',
    detection: d('LogonType|gte: 3'),
    logsource: SEC,
    events: eventsFor('LogonType'),
  },
  {
    name: 'compare on event data text, not',
    detection: d('LogonType|lt: 5', 'not sel'),
    logsource: SEC,
    events: eventsFor('LogonType'),
  },
  {
    name: 'compare with a fraction',
    detection: d('LogonType|gt: 0.5'),
    logsource: SEC,
    events: eventsFor('LogonType'),
  },
  {
    name: 'fieldref cased',
    detection: d('SubjectUserName|fieldref|cased: TargetUserName'),
    logsource: SEC,
    events: pairsFor('SubjectUserName', 'TargetUserName', FEW),
  },
  {
    name: 'fieldref cased, not',
    detection: d('SubjectUserName|fieldref|cased: TargetUserName', 'not sel'),
    logsource: SEC,
    events: pairsFor('SubjectUserName', 'TargetUserName', FEW),
  },
]

const inexact = (rule: Rule, e: JsonEvent): boolean => {
  // The verifiers' own model of osquery rows (src/verify/osquery-events.ts).
  const row = placeRow(osqueryModel() as OsqueryModel, withOrigin([e], rule.logsource)[0]!)
  return row === undefined || row.inexact.length > 0
}

let checks = 0
let skippedInexact = 0
let mismatches = 0

describe('osquery equivalence on real SQLite', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const rule = sigma(c.detection, c.logsource ?? WIN_PROC)
    const exact = c.events.filter((e) => !inexact(rule, e))
    skippedInexact += c.events.length - exact.length
    const r = await checkEquivalence(rule, exact, backend, verifier)
    expect(r.query, JSON.stringify(r.diagnostics)).toBeDefined()
    expect(
      r.diagnostics.filter((x) => x.severity === 'error'),
      r.query,
    ).toEqual([])
    expect(r.actual).toHaveLength(exact.length)
    checks += exact.length
    mismatches += r.mismatches.length
    expect(
      r.mismatches.map((i) => exact[i]),
      r.query,
    ).toEqual([])
    // The events exercise both answers, so a query that is always true or always false fails.
    if (c.none) expect(r.expected).not.toContain(true)
    else expect(r.expected).toContain(true)
    expect(r.expected).toContain(false)
  })

  afterAll(async () => {
    console.log(
      `osquery equivalence: ${CASES.length} constructs, ${checks} event checks, ${mismatches} mismatches, ${skippedInexact} events with no exact osquery row left out (SQLite ${await sqliteVersion()} via sql.js)`,
    )
  })
})
