/**
 * Property: for random small detections over hostile characters and random events, the emitted
 * SQL run in SQLite selects exactly what the reference evaluator selects, or the backend refuses.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { CompareOp, Node, Segment } from '../../src/ast/nodes.js'
import type { JsonEvent, LogSource } from '../../src/rule/rule.js'
import { backend } from '../../src/backends/osquery.js'
import { verifier } from '../../src/verify/osquery.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { osqueryModel, placeRow, type OsqueryModel } from '../../src/verify/osquery-events.js'
import { withOrigin } from '../../src/origin.js'
import { astRule } from './helpers.js'

// Hostile characters: both cases, non-ASCII with case, caseless astral, LIKE/GLOB metacharacters,
// quotes, backslash. (U+0130, U+212A and U+2028 are the documented limits, not drawn here.)
const CHARS = [
  'a',
  'A',
  'b',
  'B',
  'é',
  'É',
  'ß',
  'ẞ',
  'ω',
  'Ω',
  '😀',
  '_',
  '%',
  '*',
  '?',
  '[',
  ']',
  '\\',
  "'",
  '"',
  '=',
  ' ',
  '0',
  '1',
  '.',
  '-',
]

const SOURCES: { logsource: LogSource; text: string[]; numeric: string[] }[] = [
  {
    logsource: { product: 'windows', category: 'process_creation' },
    text: ['CommandLine', 'Image'],
    numeric: ['ProcessId'],
  },
  {
    logsource: { product: 'windows', service: 'security' },
    text: ['TargetUserName', 'SubjectUserName'],
    numeric: ['EventID'],
  },
  {
    logsource: { product: 'windows', category: 'service_state' },
    text: ['ServiceName', 'Status'],
    numeric: ['ProcessId'],
  },
]

const text = fc.array(fc.constantFrom(...CHARS), { maxLength: 4 }).map((cs) => cs.join(''))
const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 4, arbitrary: text.map((t): Segment => ({ kind: 'lit', text: t })) },
  { weight: 1, arbitrary: fc.constant<Segment>({ kind: 'any' }) },
  { weight: 1, arbitrary: fc.constant<Segment>({ kind: 'one' }) },
)
const REGEXES = ['a.*b', 'a.b', 'a\\sb', '^a', 'b$', '[0-9]+', 'a[^b]+', '\\d', 'A|\\[', '^$', '(ab)+', "'", '\\\\']

function detection(fields: string[], numeric: string[]): fc.Arbitrary<Node> {
  const field = fc.constantFrom(...fields)
  const anyField = fc.constantFrom(...fields, ...numeric)
  const leaf: fc.Arbitrary<Node> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .record({ field: anyField, pattern: fc.array(segment, { minLength: 1, maxLength: 4 }), cased: fc.boolean() })
        .map((m): Node => ({ kind: 'Match', ...m })),
    },
    { weight: 1, arbitrary: anyField.map((f): Node => ({ kind: 'Exists', field: f })) },
    { weight: 1, arbitrary: anyField.map((f): Node => ({ kind: 'Null', field: f })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ field, source: fc.constantFrom(...REGEXES), i: fc.boolean() })
        .map((r): Node => ({ kind: 'Regex', field: r.field, source: r.source, flags: { i: r.i, m: false, s: false } })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          field: anyField,
          op: fc.constantFrom<CompareOp>('lt', 'lte', 'gt', 'gte'),
          value: fc.constantFrom(-1, 0, 1, 1.5, 10),
        })
        .map((c): Node => ({ kind: 'Compare', ...c })),
    },
    {
      weight: 1,
      arbitrary: fc.record({ field, ref: field }).map((r): Node => ({ kind: 'FieldRef', ...r, cased: true })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          field,
          cidr: fc.constantFrom('10.0.0.0/8', '10.0.0.1/32', '10.0.0.0/31', '0.0.0.0/0', '10.0.0.0/30'),
        })
        .map((c): Node => ({ kind: 'Cidr', ...c, family: 4 })),
    },
  )
  return fc.letrec<{ node: Node }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((items): Node => ({ kind: 'And', items })),
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((items): Node => ({ kind: 'Or', items })),
      tie('node').map((item): Node => ({ kind: 'Not', item })),
    ),
  })).node
}

function events(fields: string[]): fc.Arbitrary<JsonEvent[]> {
  const value = fc.oneof(
    { weight: 5, arbitrary: text },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>(
        null,
        0,
        1,
        10,
        -1,
        1.5,
        true,
        '1.5',
        ' 10',
        '10.0.0.1',
        '10.0.0.0',
        '10.0.0.3',
        '10.255.255.255',
        '255.255.255.255',
        '010.0.0.1',
        '::1',
      ),
    },
  )
  const event = fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: fields.length }) as fc.Arbitrary<JsonEvent>
  return fc.array(event, { minLength: 1, maxLength: 10 })
}

describe('osquery property: reference == SQLite, or refused', () => {
  it('holds for random detections and events', async () => {
    let compiled = 0,
      refused = 0,
      checked = 0,
      selected = 0
    const model = osqueryModel() as OsqueryModel
    const arb = fc
      .constantFrom(...SOURCES)
      .chain((s) => fc.tuple(fc.constant(s), detection(s.text, s.numeric), events([...s.text, ...s.numeric])))
    await fc.assert(
      fc.asyncProperty(arb, async ([s, node, evs]) => {
        const rule = astRule(node, s.logsource)
        const exact = evs.filter((e) => placeRow(model, withOrigin([e], rule.logsource)[0]!)?.inexact.length === 0)
        const r = await checkEquivalence(rule, exact, backend, verifier)
        if (r.query === undefined) {
          refused++
          expect(r.diagnostics.some((d) => d.code.startsWith('target/unsupported-'))).toBe(true)
          return
        }
        compiled++
        checked += exact.length
        selected += r.expected.filter((x) => x).length
        expect(
          r.diagnostics.filter((d) => d.severity === 'error'),
          `${r.query}\n${JSON.stringify(exact)}`,
        ).toEqual([])
        expect(r.mismatches, `${r.query}\n${JSON.stringify(r.mismatches.map((i) => exact[i]))}`).toEqual([])
      }),
      { numRuns: 1000, seed: 20261127 },
    )
    console.log(
      `osquery property: ${compiled} detections compiled (${checked} event checks, ${selected} selected by the rule, 0 mismatches), ${refused} refused`,
    )
    expect(compiled).toBeGreaterThan(refused)
    expect(selected).toBeGreaterThan(checked / 10)
  }, 120_000)
})

describe('osquery property: the regex subset reads the same in std::regex (bytes) as in JavaScript', () => {
  const TOKENS = [
    'a',
    'A',
    'b',
    '0',
    '.',
    '*',
    '+',
    '?',
    '[^a]',
    '[a-c]',
    '[A-z]',
    '\\d',
    '\\w',
    '\\W',
    '\\D',
    '\\b',
    '(',
    ')',
    '(?:',
    '(?=',
    '|',
    '^',
    '$',
    '{1,2}',
    '{2,}',
    'é',
    '\\.',
    '\\\\',
    "'",
    '-',
  ]
  const source = fc
    .array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 7 })
    .map((ts) => ts.join(''))
    .filter((s) => {
      try {
        new RegExp(s)
        return true
      } catch {
        return false
      }
    })
  const VALUE_CHARS = [
    'a',
    'A',
    'b',
    'B',
    '0',
    '9',
    'é',
    'É',
    '\u00a0',
    ' ',
    '\n',
    '😀',
    '.',
    '_',
    "'",
    '\\',
    'ab',
    'aé',
  ]
  const value = fc.array(fc.constantFrom(...VALUE_CHARS), { maxLength: 5 }).map((cs) => cs.join(''))

  it('holds for random patterns, flags and values', async () => {
    let compiled = 0,
      refused = 0,
      checked = 0
    await fc.assert(
      fc.asyncProperty(
        source,
        fc.boolean(),
        fc.array(value, { minLength: 1, maxLength: 8 }),
        async (src, i, values) => {
          const rule = astRule({ kind: 'Regex', field: 'CommandLine', source: src, flags: { i, m: false, s: false } })
          const r = await checkEquivalence(
            rule,
            values.map((v) => ({ CommandLine: v })),
            backend,
            verifier,
          )
          if (r.query === undefined) {
            refused++
            expect(r.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-regex'])
            return
          }
          compiled++
          checked += values.length
          expect(
            r.diagnostics.filter((d) => d.severity === 'error'),
            r.query,
          ).toEqual([])
          expect(
            r.mismatches.map((k) => values[k]),
            r.query,
          ).toEqual([])
        },
      ),
      { numRuns: 1500, seed: 1127 },
    )
    console.log(
      `osquery regex property: ${compiled} patterns compiled (${checked} event checks, 0 mismatches), ${refused} refused`,
    )
    expect(compiled).toBeGreaterThan(refused / 4)
  }, 120_000)
})
