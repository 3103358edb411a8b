/**
 * Bounded regular expressions (src/bounded-regex.ts) mean exactly what the native engine means,
 * checked on random patterns against `new RegExp(source, flags).test(s)`; catastrophic patterns
 * answer in linear time or end in RegexBudgetError, never hang and never answer a silent false.
 * And the verifiers' wildcard matcher (src/verify/glob.ts) against a regular-expression oracle.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  boundedRegex,
  caseFold,
  DEFAULT_REGEX_BUDGET_MS,
  RegexBudgetError,
  setRegexBudget,
} from '../../src/bounded-regex.js'
import { evaluate, EvaluationLimitError } from '../../src/evaluate/evaluate.js'
import { ANY, globMatches, globPattern, ONE } from '../../src/verify/glob.js'
import { luceneMatches, wildcardMatches } from '../../src/verify/eql-match.js'
import { regex_match } from '../../src/verify/osquery-udf.js'

/** Letters whose case forms JavaScript's non-Unicode `i` treats unevenly, and the metacharacters. */
const CHARS = [
  'a',
  'A',
  'b',
  'k',
  'K',
  '\u212a',
  's',
  'S',
  'ſ',
  'ß',
  'ẞ',
  'é',
  'É',
  'İ',
  'ı',
  'i',
  'σ',
  'ς',
  'Σ',
  '😀',
  '\n',
  '\r',
  '\u2028',
  ' ',
  '-',
  '_',
  '0',
]
const ATOMS = [
  ...CHARS.filter((c) => c !== '😀'),
  '.',
  '\\d',
  '\\D',
  '\\w',
  '\\W',
  '\\s',
  '\\S',
  '\\b',
  '\\B',
  '^',
  '$',
  '\\.',
  '\\-',
  '\\x41',
  '\\u017f',
  '\\cJ',
  '\\0',
  '[a-z]',
  '[^a-z]',
  '[A-Z0-9]',
  '[\\w-]',
  '[\\d-z]',
  '[^\\s]',
  '[ſk]',
  '[]',
  '[^]',
  '[\\u0100-\\u017f]',
  '[ä-ö]',
  '[-a]',
  '[a-]',
  '{',
  '}',
  ']',
  'x{2}',
  'a{1,3}',
  'b{0,}',
  '(?:a|b)',
  '(a)',
  '(?<n>k)',
  '(?=a)',
  '(?!b)',
  '(?<=a)',
  '(a)\\1',
]
const QUANT = ['', '', '', '*', '+', '?', '*?', '+?', '{2}', '{0,2}']

const pattern = fc
  .array(fc.tuple(fc.constantFrom(...ATOMS), fc.constantFrom(...QUANT)), { minLength: 1, maxLength: 5 })
  .chain((parts) =>
    fc.boolean().map((alt) => {
      // A quantifier only after an atom that takes one (not an anchor or a lookbehind).
      const src = parts
        .map(([a, q]) => (/^(\^|\$|\\b|\\B|\(\?<=a\)|\(\?=a\)|\(\?!b\)|\{|\})$/.test(a) ? a : a + q))
        .join('')
      return alt ? `${src}|a` : src
    }),
  )
  .filter((src) => {
    try {
      new RegExp(src)
      return true
    } catch {
      return false
    }
  })
const flags = fc.subarray(['i', 'm', 's'])
const subject = fc.array(fc.constantFrom(...CHARS, 'x', '[', ']'), { maxLength: 8 }).map((cs) => cs.join(''))

afterEach(() => setRegexBudget(DEFAULT_REGEX_BUDGET_MS))

describe('bounded regular expressions', () => {
  it('answer as the native engine on random patterns, flags and subjects (linear where V8 can, else budgeted)', () => {
    let linear = 0
    fc.assert(
      fc.property(pattern, flags, fc.array(subject, { minLength: 1, maxLength: 6 }), (src, fl, subjects) => {
        const f = fl.join('')
        const bounded = boundedRegex(src, f)
        if (bounded.engine === 'linear') linear++
        const native = new RegExp(src, f)
        for (const s of subjects) expect([src, f, s, bounded.test(s)]).toEqual([src, f, s, native.test(s)])
      }),
      { numRuns: 3000, seed: 20261203 },
    )
    expect(linear).toBeGreaterThan(1500)
  })

  it('the case-insensitive rewrite keeps JavaScript non-Unicode folding: ſ ≠ s, K ≠ k, ß ≠ ẞ, é = É', () => {
    expect(caseFold('k[a-c]')).toBe('\\u004b[\\u0041-\\u0043]')
    for (const [src, s, want] of [
      ['s', 'ſ', false],
      ['k', '\u212a', false],
      ['ß', 'ẞ', false],
      ['é', 'É', true],
      ['[a-z]+', 'ÀB', true],
      ['^[^a]$', 'A', false],
    ] as const) {
      expect(boundedRegex(src, 'i').engine).toBe('linear')
      expect(boundedRegex(src, 'i').test(s)).toBe(want)
      expect(new RegExp(src, 'i').test(s)).toBe(want)
    }
  })

  it('(a+)+$ on 40 characters runs in the linear engine, with and without i', () => {
    for (const f of ['', 'i', 'm', 's']) {
      const re = boundedRegex('(a+)+$', f)
      expect(re.engine).toBe('linear')
      expect(re.test('a'.repeat(40) + '!')).toBe(false)
      expect(re.test('x' + 'A'.repeat(40))).toBe(f === 'i')
    }
  }, 20_000)

  it('a catastrophic pattern the linear engine refuses ends in RegexBudgetError, not in a false', () => {
    setRegexBudget(50)
    const re = boundedRegex('^(a|a)+(?=b)\\1', '')
    expect(re.engine).toBe('budget')
    expect(() => re.test('a'.repeat(40))).toThrow(RegexBudgetError)
    expect(re.test('aab')).toBe(false)
  }, 20_000)

  it('the reference evaluator turns the budget into an EvaluationLimitError at the regex', () => {
    setRegexBudget(50)
    const node = {
      kind: 'Regex' as const,
      field: 'CommandLine',
      source: '^(a|a)+(?=b)\\1',
      flags: { i: false, m: false, s: false },
      at: { line: 8, col: 4 },
    }
    expect(() => evaluate(node, { CommandLine: 'a'.repeat(40) })).toThrow(EvaluationLimitError)
    try {
      evaluate(node, { CommandLine: 'a'.repeat(40) })
    } catch (e) {
      expect((e as EvaluationLimitError).at).toEqual({ line: 8, col: 4 })
    }
  }, 20_000)

  it('eql: Lucene regexes run on RE2 (an automaton, as in Lucene) and wildcards in value × pattern steps', () => {
    expect(luceneMatches('(a+)+', 'a'.repeat(40) + '!', false)).toBe(false)
    expect(luceneMatches('(a+)+b', 'a'.repeat(40) + 'b', false)).toBe(true)
    expect(wildcardMatches('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(3000), false)).toBe(false)
    expect(wildcardMatches('*A*b', 'xxaxxB', true)).toBe(true)
  }, 20_000)

  it('osquery: regex_match on (a+)+$ answers at once (std::regex would backtrack; the verifier does not)', () => {
    expect(regex_match('a'.repeat(40) + '!', '(a+)+$', 0)).toBeNull()
    expect(regex_match('xaaa', '(a+)+$', 1)).toBe('aaa')
  }, 20_000)
})

describe('the verifiers’ wildcard matcher', () => {
  const items = fc.array(fc.constantFrom('a', 'b', 'é', '😀', '*', '?'), { maxLength: 6 }).map((cs) => cs.join(''))
  it('agrees with an anchored regular expression on random patterns', () => {
    fc.assert(
      fc.property(items, fc.array(fc.constantFrom('a', 'b', 'é', '😀'), { maxLength: 8 }), (p, cs) => {
        const text = cs.join('')
        const oracle = new RegExp(
          '^' + [...p].map((c) => (c === '*' ? '[^]*' : c === '?' ? '[^]' : c)).join('') + '$',
          'u',
        ).test(text)
        const glob = globPattern(p, '*', '?')
        expect(glob.every((x) => x >= 0 || x === ANY || x === ONE)).toBe(true)
        expect(globMatches(glob, text)).toBe(oracle)
      }),
      { numRuns: 2000, seed: 20261203 },
    )
  })
})
