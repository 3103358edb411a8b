/**
 * Equivalence: for every construct and modifier, the reference evaluator (Sigma semantics) and the
 * SPL verifier (the emitted text, parsed back and run with Splunk's documented semantics) must
 * select the same events, event by event, on adversarial events.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { JsonEvent, Rule } from '../../src/rule/rule.js'
import { mismatches, sigma } from './helpers.js'

/** Values that break naive escaping, case handling and wildcard translation. */
const HOSTILE = [
  '',
  ' ',
  'a',
  'A',
  'abc',
  'ABC',
  'aBc',
  'xabcx',
  'XABCX',
  'ab',
  'bc',
  'a*c',
  'a?c',
  'abbc',
  'ac',
  'a\\c',
  'a\\',
  '\\',
  'a\\\\c',
  'a"b',
  'A"B',
  "a'b",
  'a=b',
  'a%b',
  'axb',
  'a_b',
  'a.b',
  'a|b',
  'a(b)',
  '%',
  '_',
  '*',
  '?',
  '"',
  '=',
  'a b',
  'a\tb',
  'É',
  'é',
  'ÉCOLE',
  'école',
  'ß',
  'SS',
  '😀',
  'a😀c',
  '👩\u200d💻',
  'x👩\u200d💻x',
  'a\u200db',
  'a\nc',
  'abc\n',
  'line1\nline2',
  '\r',
  'C:\\Windows\\System32\\sc.exe',
  'c:\\windows\\system32\\SC.EXE',
  'C:\\Windows\\sc.exe.bak',
  'sc.exe',
  ' stop ',
  'net stop svc',
  'NET STOP SVC',
  '-s',
  '/s',
  '–s',
  '10.1.2.3',
  '10.255.255.255',
  '11.0.0.1',
  '192.168.0.1',
  '::1',
  'fe80::1',
  'FE80::abcd',
  'fe81::1',
  '010.1.2.3',
  '10.1.2.3/8',
  '5',
  '5.0',
  '-3',
  '7',
  '42',
  '100',
  '1e3',
  ' 7 ',
  'five',
  '0x10',
  'YWJj',
  'YWJjZA',
  'xYWJj',
]

/** Non-string and structural shapes of a field's value. */
const SHAPES: unknown[] = [
  null,
  5,
  42,
  -3,
  0,
  4.5,
  true,
  false,
  ['x', 'abc'],
  ['ABC'],
  ['a\\c', 'zz'],
  ['10.1.2.3', 'q'],
  [7, 'x'],
]
/** Values a Splunk field extraction yields nothing for; Sigma still calls the field present (docs: known limit for exists/null only). */
const EMPTY_SHAPES: unknown[] = [[], {}, [null], { inner: 'abc' }]

function eventsFor(fields: readonly string[], opts: { containers?: boolean } = {}): JsonEvent[] {
  const values = [...HOSTILE, ...SHAPES, ...(opts.containers === false ? [] : EMPTY_SHAPES)]
  const events: JsonEvent[] = [{}]
  const [first, second] = fields
  for (const f of fields) for (const v of values) events.push({ [f]: v })
  if (first && second) {
    const few = ['abc', 'ABC', 'a\\c', 'x', '10.1.2.3', '5', '', null, ['abc', 'y'], ['Y', 'x']]
    for (const a of few) for (const b of few) events.push({ [first]: a, [second]: b })
  }
  return events
}

interface Case {
  readonly name: string
  /** The detection block (YAML, without `condition`). */
  readonly detection: string
  readonly condition?: string
  readonly fields: readonly string[]
  readonly logsource?: string
  /** Field presence is tested: leave out values Splunk cannot see (documented limit). */
  readonly presence?: boolean
  /** Extra events for this construct. */
  readonly events?: readonly JsonEvent[]
}

const CASES: Case[] = [
  // plain values: exact, contains, startswith, endswith
  { name: 'exact', detection: "sel:\n  Image: 'abc'", fields: ['Image'] },
  { name: 'exact with backslashes', detection: "sel:\n  Image: 'C:\\Windows\\System32\\sc.exe'", fields: ['Image'] },
  { name: 'exact with a quote', detection: "sel:\n  Image: 'a\"b'", fields: ['Image'] },
  { name: 'exact with an apostrophe', detection: 'sel:\n  Image: "a\'b"', fields: ['Image'] },
  { name: 'exact with = % _ |', detection: "sel:\n  Image: ['a=b', 'a%b', 'a_b', 'a|b']", fields: ['Image'] },
  { name: 'exact non-ASCII', detection: "sel:\n  Image: ['É', 'école', 'ß']", fields: ['Image'] },
  { name: 'exact emoji', detection: "sel:\n  Image: 'a😀c'", fields: ['Image'] },
  { name: 'contains a ZWJ emoji sequence', detection: "sel:\n  Image|contains: '👩\u200d💻'", fields: ['Image'] },
  { name: 'exact trailing backslash', detection: "sel:\n  Image: 'a\\'", fields: ['Image'] },
  { name: 'exact lone backslash', detection: "sel:\n  Image: '\\'", fields: ['Image'] },
  { name: 'exact escaped backslash before wildcard', detection: "sel:\n  Image: 'a\\\\*'", fields: ['Image'] },
  { name: 'exact empty string', detection: "sel:\n  Image: ''", fields: ['Image'] },
  { name: 'exact space', detection: "sel:\n  Image: ' '", fields: ['Image'] },
  { name: 'number value', detection: 'sel:\n  Image: 5', fields: ['Image'] },
  { name: 'boolean value', detection: 'sel:\n  Image: true', fields: ['Image'] },
  { name: 'contains', detection: "sel:\n  CommandLine|contains: 'bc'", fields: ['CommandLine'] },
  { name: 'contains with spaces', detection: "sel:\n  CommandLine|contains: ' stop '", fields: ['CommandLine'] },
  { name: 'contains a quote', detection: "sel:\n  CommandLine|contains: '\"'", fields: ['CommandLine'] },
  { name: 'contains a backslash', detection: "sel:\n  CommandLine|contains: '\\'", fields: ['CommandLine'] },
  { name: 'startswith trailing backslash', detection: "sel:\n  Image|startswith: 'a\\'", fields: ['Image'] },
  { name: 'startswith path', detection: "sel:\n  Image|startswith: 'C:\\Windows\\'", fields: ['Image'] },
  { name: 'endswith', detection: "sel:\n  Image|endswith: '\\sc.exe'", fields: ['Image'] },
  { name: 'endswith non-ASCII', detection: "sel:\n  Image|endswith: 'COLE'", fields: ['Image'] },
  { name: 'contains|all', detection: "sel:\n  CommandLine|contains|all: ['net', 'stop']", fields: ['CommandLine'] },
  { name: 'list of values (IN)', detection: "sel:\n  Image: ['abc', 'x*', '*\\sc.exe']", fields: ['Image'] },
  // wildcards
  { name: 'wildcard *', detection: "sel:\n  Image: '*'", fields: ['Image'] },
  { name: 'wildcard in the middle', detection: "sel:\n  Image: 'a*c'", fields: ['Image'] },
  { name: 'wildcard ?', detection: "sel:\n  Image: 'a?c'", fields: ['Image'] },
  { name: 'wildcard ? alone', detection: "sel:\n  Image: '?'", fields: ['Image'] },
  { name: 'wildcards ?*', detection: "sel:\n  Image: '*?\\sc.exe'", fields: ['Image'] },
  { name: 'escaped *', detection: "sel:\n  Image: 'a\\*c'", fields: ['Image'] },
  { name: 'escaped ?', detection: "sel:\n  Image: 'a\\?c'", fields: ['Image'] },
  { name: 'contains escaped *', detection: "sel:\n  Image|contains: '\\*'", fields: ['Image'] },
  { name: 'escaped * in a list', detection: "sel:\n  Image: ['abc', 'a\\*c']", fields: ['Image'] },
  // case
  { name: 'cased exact', detection: "sel:\n  Image|cased: 'abc'", fields: ['Image'] },
  { name: 'cased contains', detection: "sel:\n  Image|contains|cased: 'B'", fields: ['Image'] },
  { name: 'cased non-ASCII', detection: "sel:\n  Image|cased: 'É'", fields: ['Image'] },
  // modifiers that rewrite values
  { name: 'windash', detection: "sel:\n  CommandLine|windash|contains: '-s'", fields: ['CommandLine'] },
  { name: 'base64offset', detection: "sel:\n  CommandLine|base64offset|contains: 'abc'", fields: ['CommandLine'] },
  { name: 'base64', detection: "sel:\n  CommandLine|base64: 'abc'", fields: ['CommandLine'] },
  {
    name: 'wide base64offset',
    detection: "sel:\n  CommandLine|wide|base64offset|contains: 'ab'",
    fields: ['CommandLine'],
    events: [{ CommandLine: 'YQBiA' }, { CommandLine: 'xYQBiAx' }],
  },
  {
    name: 'utf16be base64',
    detection: "sel:\n  CommandLine|utf16be|base64: 'a'",
    fields: ['CommandLine'],
    events: [{ CommandLine: 'AGE=' }],
  },
  {
    name: 'utf16 base64 contains',
    detection: "sel:\n  CommandLine|utf16|base64|contains: 'a'",
    fields: ['CommandLine'],
    events: [{ CommandLine: '//5hAA==' }],
  },
  {
    name: 'startswith|all',
    detection: "sel:\n  CommandLine|contains|all: ['a', 'b']\n  Image|startswith: ['C:\\', 'c']",
    fields: ['CommandLine', 'Image'],
  },
  // regular expressions
  { name: 're anchored', detection: "sel:\n  CommandLine|re: '^a.*c$'", fields: ['CommandLine'] },
  { name: 're one char', detection: "sel:\n  CommandLine|re: 'a.c'", fields: ['CommandLine'] },
  { name: 're plus', detection: "sel:\n  CommandLine|re: 'b+'", fields: ['CommandLine'] },
  { name: 're case-insensitive', detection: "sel:\n  CommandLine|re|i: '^abc$'", fields: ['CommandLine'] },
  { name: 're inline (?i)', detection: "sel:\n  CommandLine|re: '(?i)stop\\s+svc'", fields: ['CommandLine'] },
  { name: 're multiline', detection: "sel:\n  CommandLine|re|m: '^c$'", fields: ['CommandLine'] },
  { name: 're dotall', detection: "sel:\n  CommandLine|re|s: 'a.c'", fields: ['CommandLine'] },
  { name: 're dollar before final newline', detection: "sel:\n  CommandLine|re: 'abc$'", fields: ['CommandLine'] },
  { name: 're classes', detection: "sel:\n  CommandLine|re: '^[a-c]+$|\\d|[^\\w\\s]'", fields: ['CommandLine'] },
  { name: 're backslash and quote', detection: "sel:\n  CommandLine|re: 'a\\\\c|a\"b'", fields: ['CommandLine'] },
  { name: 're whitespace', detection: "sel:\n  CommandLine|re: 'a\\sb'", fields: ['CommandLine'] },
  { name: 're lookaround', detection: "sel:\n  CommandLine|re: '(?<=a)b(?!b)'", fields: ['CommandLine'] },
  { name: 're braces', detection: "sel:\n  CommandLine|re: 'b{2}|x{'", fields: ['CommandLine'] },
  {
    name: 're under OR',
    detection: "sel:\n  Image: 'abc'\nsel2:\n  CommandLine|re: 'stop'",
    condition: 'sel or sel2',
    fields: ['Image', 'CommandLine'],
  },
  {
    name: 're under NOT',
    detection: "sel:\n  Image|contains: 'b'\nfilter:\n  Image|re: 'c$'",
    condition: 'sel and not filter',
    fields: ['Image'],
  },
  // networks and numbers
  { name: 'cidr v4', detection: "sel:\n  DestinationIp|cidr: '10.0.0.0/8'", fields: ['DestinationIp'] },
  { name: 'cidr v6', detection: "sel:\n  DestinationIp|cidr: 'fe80::/10'", fields: ['DestinationIp'] },
  {
    name: 'cidr list',
    detection: "sel:\n  DestinationIp|cidr: ['192.168.0.0/16', '10.1.2.3/32']",
    fields: ['DestinationIp'],
  },
  {
    name: 'cidr under NOT',
    detection: "sel:\n  Image: '*'\nfilter:\n  DestinationIp|cidr: '10.0.0.0/8'",
    condition: 'sel and not filter',
    fields: ['Image', 'DestinationIp'],
  },
  { name: 'gt', detection: 'sel:\n  Count|gt: 5', fields: ['Count'] },
  { name: 'gte', detection: 'sel:\n  Count|gte: 5', fields: ['Count'] },
  { name: 'lt', detection: 'sel:\n  Count|lt: 5', fields: ['Count'] },
  { name: 'lte negative', detection: 'sel:\n  Count|lte: -3', fields: ['Count'] },
  { name: 'gt fraction', detection: 'sel:\n  Count|gt: 4.25', fields: ['Count'] },
  // presence
  { name: 'exists true', detection: 'sel:\n  Image|exists: true', fields: ['Image'], presence: true },
  { name: 'exists false', detection: 'sel:\n  Image|exists: false', fields: ['Image'], presence: true },
  { name: 'null', detection: 'sel:\n  Image: null', fields: ['Image'], presence: true },
  { name: 'not null', detection: 'sel:\n  Image: null', condition: 'not sel', fields: ['Image'], presence: true },
  { name: 'neq', detection: "sel:\n  Image|neq: 'abc'", fields: ['Image'], presence: true },
  { name: 'fieldref cased', detection: 'sel:\n  Image|fieldref|cased: ParentImage', fields: ['Image', 'ParentImage'] },
  // fields
  {
    name: 'dotted field',
    detection: "sel:\n  a.b: 'abc'",
    fields: ['a.b'],
    events: [
      { a: { b: 'abc' } },
      { a: { b: 'x' } },
      { 'a.b': 'abc', a: { b: 'x' } },
      { 'a.b': null, a: { b: 'abc' } },
      { 'a.b': { c: 1 } },
    ],
  },
  { name: 'field with a dash', detection: "sel:\n  Some-Field: 'abc'", fields: ['Some-Field'] },
  { name: 'field with a space', detection: "sel:\n  Some Field|contains: 'b'", fields: ['Some Field'] },
  { name: 'field named like an operator', detection: "sel:\n  OR: 'abc'", fields: ['OR'] },
  {
    name: 'EventID mapped to EventCode',
    detection: 'sel:\n  EventID: 4688',
    fields: ['EventID'],
    logsource: 'product: windows\n  service: security',
    events: [{ EventID: 4688 }, { EventID: '4688' }, { EventID: 4689 }],
  },
  {
    name: 'EventID under a log source that pins EventCode',
    detection: 'sel:\n  EventID: [12, 14]',
    fields: ['EventID'],
    logsource: 'product: windows\n  category: registry_event',
    events: [{ EventID: 12 }, { EventID: 13 }, { EventID: '14' }],
  },
  // conditions
  {
    name: 'and not',
    detection: "sel:\n  Image|endswith: '\\sc.exe'\nfilter:\n  CommandLine|contains: 'stop'",
    condition: 'sel and not filter',
    fields: ['Image', 'CommandLine'],
  },
  {
    name: 'or of ands (precedence)',
    detection: "a:\n  Image: 'abc'\n  CommandLine: 'x'\nb:\n  Image: 'ABC'\nc:\n  CommandLine: 'y*'",
    condition: 'a or b and c',
    fields: ['Image', 'CommandLine'],
  },
  {
    name: 'and of ors (precedence)',
    detection: "a:\n  Image: ['abc', 'x']\nb:\n  CommandLine: ['abc', 'Y']",
    condition: 'a and b',
    fields: ['Image', 'CommandLine'],
  },
  {
    name: '1 of',
    detection: "sel1:\n  Image: 'abc'\nsel2:\n  CommandLine|contains: 'a?c'",
    condition: '1 of sel*',
    fields: ['Image', 'CommandLine'],
  },
  {
    name: 'all of',
    detection: "sel1:\n  Image|startswith: 'a'\nsel2:\n  CommandLine|cased: 'x'",
    condition: 'all of sel*',
    fields: ['Image', 'CommandLine'],
  },
  {
    name: 'not of a mix',
    detection: "sel1:\n  Image: 'a*c'\nsel2:\n  CommandLine: 'abc'",
    condition: 'not (sel1 or sel2)',
    fields: ['Image', 'CommandLine'],
  },
  { name: 'double negation', detection: "sel:\n  Image: 'abc'", condition: 'not (not sel)', fields: ['Image'] },
  {
    name: 'list of maps',
    detection: "sel:\n  - Image: 'abc'\n  - CommandLine|contains: 'b'",
    fields: ['Image', 'CommandLine'],
  },
]

function caseRule(c: Case): Rule {
  return sigma(`title: ${JSON.stringify(c.name)}
id: 5f0c3f9e-1111-4222-8333-944455556666
status: test
logsource:
  ${c.logsource ?? 'product: windows\n  category: process_creation'}
detection:
${c.detection.replace(/^/gm, '  ')}
  condition: ${c.condition ?? 'sel'}
level: medium
`)
}

const totals = { constructs: 0, events: 0, mismatches: 0 }

describe('spl equivalence: reference evaluator == verifier on the emitted text', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const events = [...eventsFor(c.fields, { containers: !c.presence }), ...(c.events ?? [])]
      const r = await mismatches(caseRule(c), events)
      expect(r.errors).toEqual([])
      expect(r.query).toBeDefined()
      totals.constructs++
      totals.events += events.length
      totals.mismatches += r.mismatches.length
      expect(r.mismatches.map((i) => ({ event: events[i], query: r.query }))).toEqual([])
    })
  }
  afterAll(() => {
    console.log(
      `spl equivalence: ${totals.constructs} constructs, ${totals.events} events, ${totals.mismatches} mismatches`,
    )
  })
})
