/**
 * Property: for random small detections over a hostile alphabet and random events, the SPL
 * verifier (emitted text, parsed back) selects exactly what the reference evaluator selects, or
 * the backend refuses the rule. A counterexample is a backend bug (or a construct to refuse),
 * never a reason to bend the verifier.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Node, Pattern, Segment } from '../../src/ast/nodes.js'
import { escapeRegex } from '../../src/ast/pattern.js'
import { backend } from '../../src/backends/spl.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { verifier } from '../../src/verify/spl.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { rule } from './helpers.js'

/**
 * Characters that stress quoting, escaping, case folding and wildcards. Left out on purpose, as
 * documented limits (docs/targets/spl.md): characters whose case folding differs between
 * JavaScript and PCRE (ẞ, K, ſ, final sigma), and whitespace other than space/tab around numbers.
 */
const ALPHABET = [
  'a',
  'A',
  'b',
  'B',
  'É',
  'é',
  'ß',
  '😀',
  '*',
  '?',
  '\\',
  '"',
  "'",
  '=',
  '%',
  '_',
  ' ',
  '.',
  '|',
  '(',
  '5',
]
const FIELDS = ['A', 'B', 'c.d']

const text = fc.array(fc.constantFrom(...ALPHABET), { minLength: 0, maxLength: 4 }).map((cs) => cs.join(''))
const segment: fc.Arbitrary<Segment> = fc.oneof(
  { weight: 3, arbitrary: text.filter((t) => t !== '').map((t) => ({ kind: 'lit', text: t }) as Segment) },
  { weight: 1, arbitrary: fc.constant({ kind: 'any' } as Segment) },
  { weight: 1, arbitrary: fc.constant({ kind: 'one' } as Segment) },
)
const pattern: fc.Arbitrary<Pattern> = fc.array(segment, { minLength: 0, maxLength: 4 })
const field = fc.constantFrom(...FIELDS)

/** Regexes in the Sigma (JavaScript) dialect built from pieces both dialects know. */
const regexAtom = fc.oneof(
  fc
    .constantFrom(...ALPHABET)
    .filter((c) => c !== '😀')
    .map(escapeRegex),
  fc.constantFrom(
    '.*',
    '.+',
    '.',
    '.?',
    '.{2}',
    '[^a]',
    '\\S',
    '\\W+',
    '[ab]',
    '[a-c]',
    '\\w',
    '\\d',
    '\\s',
    'b?',
    'a{2}',
    '(a|b)',
    '(.)',
    '\\b',
    '[\\s\\S]',
    '(?=a)',
  ),
)
const regexSource = fc
  .tuple(
    fc.boolean(),
    fc.array(regexAtom, { minLength: 1, maxLength: 4 }),
    fc.boolean(),
    fc.option(fc.array(regexAtom, { minLength: 1, maxLength: 2 })),
  )
  .map(
    ([start, body, end, alt]) =>
      (start ? '^' : '') + body.join('') + (end ? '$' : '') + (alt ? '|' + alt.join('') : ''),
  )

const leaf: fc.Arbitrary<Node> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('Match' as const), field, pattern, cased: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('Regex' as const),
      field,
      source: regexSource,
      flags: fc.record({ i: fc.boolean(), m: fc.boolean(), s: fc.boolean() }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Exists' as const), field }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Null' as const), field }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('Compare' as const),
      field,
      op: fc.constantFrom('lt', 'lte', 'gt', 'gte' as const),
      value: fc.constantFrom(-1, 0, 5, 4.5),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('10.0.0.0/8', '10.1.2.3/32', 'fe80::/10')
      .chain((cidr) =>
        field.map((f) => ({ kind: 'Cidr', field: f, cidr, family: cidr.includes(':') ? 6 : 4 }) as Node),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('FieldRef' as const), field, ref: field, cased: fc.boolean() }),
  },
)

const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('Not' as const), item: tie('node') }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('And' as const),
        items: fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('Or' as const),
        items: fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
      }),
    },
  ),
})).node

/** Field values: strings over the alphabet, numbers, IPs, null, and non-empty arrays. */
const value = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(5, 4.5, -1, 0, 42, true) },
  { weight: 1, arbitrary: fc.constantFrom('10.1.2.3', '11.0.0.1', 'fe80::1', ' 5', '5\t', '-1') },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(text, { minLength: 1, maxLength: 3 }) },
)
const event: fc.Arbitrary<JsonEvent> = fc
  .record({ A: value, B: value, 'c.d': value }, { requiredKeys: [] })
  .chain((e) =>
    fc.boolean().map((nested) => {
      // `c.d` as a flat key or as a path into a nested object.
      if (!nested || !('c.d' in e)) return e
      const { ['c.d']: cd, ...rest } = e
      return { ...rest, c: { d: cd } }
    }),
  )

describe('spl property: random detections, random events', () => {
  it('the verifier agrees with the reference evaluator, or the backend refuses', async () => {
    let compiled = 0
    let refused = 0
    let checked = 0
    await fc.assert(
      fc.asyncProperty(node, fc.array(event, { minLength: 1, maxLength: 8 }), async (detection, events) => {
        const r = rule(detection)
        const eq = await checkEquivalence(r, events, backend, verifier)
        if (eq.query === undefined) {
          refused++
          expect(eq.diagnostics.some((d) => d.severity === 'error' && d.code.startsWith('target/unsupported-'))).toBe(
            true,
          )
          return
        }
        compiled++
        checked += events.length
        const problems = eq.diagnostics.filter((d) => d.severity === 'error')
        expect(problems.map((d) => `${d.code}: ${d.message}\n${eq.query}`)).toEqual([])
      }),
      { numRuns: Number(process.env.SPL_RUNS ?? 400), seed: process.env.SPL_RUNS ? undefined : 20261127 },
    )
    console.log(
      `spl property: ${compiled} detections compiled (${checked} events checked), ${refused} refused, 0 mismatches`,
    )
    expect(compiled).toBeGreaterThan(300)
  })
})

/** Characters whose case folding differs between JavaScript's non-Unicode `i` and PCRE's caseless matching. */
const CASE_ALPHABET = [
  's',
  'S',
  'ſ',
  'k',
  'K',
  'K',
  'ß',
  'ẞ',
  'σ',
  'ς',
  'Σ',
  'i',
  'I',
  'İ',
  'ı',
  'å',
  'Å',
  'Å',
  'µ',
  'μ',
  'Ω',
  'ω',
  '😀',
  '.',
  'a',
]
const caseText = fc.array(fc.constantFrom(...CASE_ALPHABET), { minLength: 0, maxLength: 4 }).map((cs) => cs.join(''))
const caseRegex = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        fc
          .constantFrom(...CASE_ALPHABET)
          .filter((c) => c !== '😀')
          .map(escapeRegex),
        fc.constantFrom('[a-z]', '[sk]', '[^s]', '.', '.*', '\\w', '[ß-ẞ]', 'ς+'),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    fc.boolean(),
  )
  .map(([start, body, end]) => (start ? '^' : '') + body.join('') + (end ? '$' : ''))
const caseNode: fc.Arbitrary<Node> = fc.record({
  kind: fc.constant('Regex' as const),
  field: fc.constant('A'),
  source: caseRegex,
  flags: fc.record({ i: fc.boolean(), m: fc.constant(false), s: fc.boolean() }),
})

describe('spl property: case folding in |re|i', () => {
  it('letters JavaScript and PCRE fold differently (ſ, K, ẞ, final sigma …) select the same events', async () => {
    let compiled = 0
    await fc.assert(
      fc.asyncProperty(
        caseNode,
        fc.array(fc.record({ A: caseText }), { minLength: 1, maxLength: 8 }),
        async (detection, events) => {
          const eq = await checkEquivalence(rule(detection), events, backend, verifier)
          if (eq.query === undefined) return
          compiled++
          expect(
            eq.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.message}\n${eq.query}`),
          ).toEqual([])
        },
      ),
      { numRuns: Number(process.env.SPL_RUNS ?? 300), seed: process.env.SPL_RUNS ? undefined : 20261128 },
    )
    expect(compiled).toBeGreaterThan(150)
  })
})
