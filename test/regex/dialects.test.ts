/**
 * One table per construct of a Sigma regex (JavaScript, no `u` flag) and what each dialect prints
 * for it, or the construct it refuses. Every printed pattern is also run through the target's own
 * engine as the verifiers model it (PCRE: src/verify/spl-pcre.ts; RE2: re2js, as the KQL verifier;
 * Lucene: src/verify/eql-match.ts; std::regex: the osquery UDF) on values chosen to tell the
 * dialects apart (emoji, line terminators, case variants), and must select what JavaScript selects.
 */
import { describe, expect, test } from 'vitest'
import { RE2JS } from 're2js'
import { parseSigmaRegex } from '../../src/regex/parse.js'
import { toPcre } from '../../src/regex/pcre.js'
import { toRe2 } from '../../src/regex/re2.js'
import { toLucene } from '../../src/regex/lucene.js'
import { toStdRegex } from '../../src/regex/std-regex.js'
import type { Printed, RegexFlags, SigmaRegex } from '../../src/regex/ast.js'
import { pcreToRegExp } from '../../src/verify/spl-pcre.js'
import { luceneMatches } from '../../src/verify/eql-match.js'
import { regex_match } from '../../src/verify/osquery-udf.js'

type Dialect = 'pcre' | 're2' | 'lucene' | 'std'
type Want = string | { refused: string }
type Row = readonly [source: string, flags: string, want: Readonly<Record<Dialect, Want>>]

const PRINTERS: Readonly<Record<Dialect, (r: SigmaRegex) => Printed>> = {
  pcre: toPcre,
  re2: toRe2,
  lucene: toLucene,
  std: toStdRegex,
}

const JS_SPACE_PCRE =
  '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}'
const JS_SPACE_RE2 =
  '\\t\\n\\x{B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}'
const JS_SPACE_LUCENE = '\t\n\u000b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'
const EOL_PCRE = '\\n\\r\\x{2028}\\x{2029}'
const EOL_LUCENE = '\n\r\u2028\u2029'
const ASTRAL_LUCENE = '\u{10000}-\u{10FFFF}'

const refused = (construct: string): { refused: string } => ({ refused: construct })

const ROWS: readonly Row[] = [
  ['abc', '', { pcre: 'abc', re2: 'abc', lucene: '.*(abc).*', std: 'abc' }],
  ['a\\.b\\-c\\/', '', { pcre: 'a\\.b\\-c\\/', re2: 'a\\.b-c/', lucene: '.*(a\\.b\\-c\\/).*', std: 'a\\.b\\-c\\/' }],
  [
    '\\d+\\w*\\s',
    '',
    {
      pcre: `\\d+\\w*[${JS_SPACE_PCRE}]`,
      re2: `\\d+\\w*[${JS_SPACE_RE2}]`,
      lucene: `.*([0-9]+[0-9A-Za-z_]*[${JS_SPACE_LUCENE}]).*`,
      std: refused("'\\s'"),
    },
  ],
  // A single `.` between two literals can never be half of an emoji: BMP only.
  [
    'a.c',
    '',
    {
      pcre: `a[^${EOL_PCRE}\\x{10000}-\\x{10ffff}]c`,
      re2: 'a[^\\n\\r\\x{2028}\\x{2029}\\x{10000}-\\x{10FFFF}]c',
      lucene: `.*(a[^${EOL_LUCENE}${ASTRAL_LUCENE}]c).*`,
      std: refused("'.' without '*' or '+'"),
    },
  ],
  // At the free edge of the search half an emoji is as good as a whole one.
  [
    'a.',
    '',
    {
      pcre: `a[^${EOL_PCRE}]`,
      re2: 'a[^\\n\\r\\x{2028}\\x{2029}]',
      lucene: `.*(a[^${EOL_LUCENE}]).*`,
      std: refused("'.' without '*' or '+'"),
    },
  ],
  [
    'a.*',
    '',
    { pcre: `a[^${EOL_PCRE}]*`, re2: 'a[^\\n\\r\\x{2028}\\x{2029}]*', lucene: `.*(a[^${EOL_LUCENE}]*).*`, std: 'a.*' },
  ],
  [
    '\\S+x',
    '',
    {
      pcre: `[^${JS_SPACE_PCRE}]+x`,
      re2: `[^${JS_SPACE_RE2}]+x`,
      lucene: `.*([^${JS_SPACE_LUCENE}]+x).*`,
      std: refused("'\\S'"),
    },
  ],
  [
    'x\\Dy',
    '',
    {
      pcre: 'x[^0-9\\x{10000}-\\x{10ffff}]y',
      re2: 'x[^0-9\\x{10000}-\\x{10FFFF}]y',
      lucene: `.*(x[^0-9${ASTRAL_LUCENE}]y).*`,
      std: refused("'\\D' without '*' or '+'"),
    },
  ],
  ['[a-c_]', '', { pcre: '[\\_a-c]', re2: '[a-c_]', lucene: '.*([a-c\\_]).*', std: '[a-c_]' }],
  ['[^a-c]+x', '', { pcre: '[^a-c]+x', re2: '[^a-c]+x', lucene: '.*([^a-c]+x).*', std: '[^a-c]+x' }],
  [
    '[\\d\\s-]',
    '',
    {
      pcre: `[\\-0-9${JS_SPACE_PCRE}]`,
      re2: `[\\d${JS_SPACE_RE2}\\-]`,
      lucene: `.*([0-9${JS_SPACE_LUCENE}\\-]).*`,
      std: refused("'\\s' in a class"),
    },
  ],
  [
    'a[]',
    '',
    {
      pcre: 'a(?!)',
      re2: 'a[^\\x{0}-\\x{10FFFF}]',
      lucene: refused('an empty character class'),
      std: refused("the empty class '[]'"),
    },
  ],
  [
    'a[^]b',
    '',
    {
      pcre: 'a[^\\x{10000}-\\x{10ffff}]b',
      re2: 'a[\\x{0}-\\x{FFFF}]b',
      lucene: `.*(a[^${ASTRAL_LUCENE}]b).*`,
      std: refused("the empty class '[^]'"),
    },
  ],
  ['^a$', '', { pcre: '^a\\z', re2: '^a$', lucene: 'a', std: '^a$' }],
  [
    '^a',
    'm',
    {
      pcre: `(?<![^${EOL_PCRE}])a`,
      re2: refused('an anchor with the m flag'),
      lucene: refused('an anchor with the m flag'),
      std: refused("'^' with the m flag"),
    },
  ],
  ['a^b', '', { pcre: 'a^b', re2: 'a^b', lucene: refused('an anchor inside the expression'), std: 'a^b' }],
  [
    '\\bnet\\b',
    '',
    { pcre: '\\bnet\\b', re2: '\\bnet\\b', lucene: refused('the word boundary \\b'), std: '\\bnet\\b' },
  ],
  ['(a|b)c', '', { pcre: '(a|b)c', re2: '(?:a|b)c', lucene: '.*((a|b)c).*', std: '(a|b)c' }],
  ['(^a$)|(^b$)', '', { pcre: '(^a\\z)|(^b\\z)', re2: '(?:^a$)|(?:^b$)', lucene: 'a|b', std: '(^a$)|(^b$)' }],
  ['(?<n>a)', '', { pcre: '(?<n>a)', re2: '(?:a)', lucene: '.*(a).*', std: refused('a named group') }],
  ['a(?=b)', '', { pcre: 'a(?=b)', re2: refused('a lookahead'), lucene: refused('a lookahead'), std: 'a(?=b)' }],
  [
    '(?<=a)b',
    '',
    { pcre: '(?<=a)b', re2: refused('a lookbehind'), lucene: refused('a lookbehind'), std: refused('a lookbehind') },
  ],
  [
    '(?<=a+)b',
    '',
    {
      pcre: refused('a quantifier inside a lookbehind'),
      re2: refused('a lookbehind'),
      lucene: refused('a lookbehind'),
      std: refused('a lookbehind'),
    },
  ],
  [
    '(a)\\1',
    '',
    {
      pcre: refused('a backreference'),
      re2: refused('a backreference'),
      lucene: refused('a backreference'),
      std: '(a)\\1',
    },
  ],
  ['a{2,3}?b{1,}', '', { pcre: 'a{2,3}?b{1,}', re2: 'a{2,3}?b{1,}', lucene: '.*(a{2,3}b{1,}).*', std: 'a{2,3}?b{1,}' }],
  // JavaScript's i (no u) folds k with K only: not the Kelvin sign, which PCRE's and RE2's folding add.
  ['k', 'i', { pcre: '[Kk]', re2: '[Kk]', lucene: '.*(k).*', std: '[kK]' }],
  ['\\w+s', 'i', { pcre: '\\w+[Ss]', re2: '\\w+[Ss]', lucene: '.*([0-9A-Za-z_]+s).*', std: '\\w+[sS]' }],
  ['[^k]+', 'i', { pcre: '[^Kk]+', re2: '[^Kk]+', lucene: '.*([^kK]+).*', std: '[^kK]+' }],
  ['[a-c]', 'i', { pcre: '[A-Ca-c]', re2: '[A-Ca-c]', lucene: '.*([a-cABC]).*', std: '[a-cA-C]' }],
  ['é', 'i', { pcre: '[Éé]', re2: '[Éé]', lucene: '.*([Éé]).*', std: refused("the non-ASCII character 'é'") }],
  [
    'a.b',
    's',
    {
      pcre: 'a[^\\x{10000}-\\x{10ffff}]b',
      re2: 'a[\\x{0}-\\x{FFFF}]b',
      lucene: `.*(a[^${ASTRAL_LUCENE}]b).*`,
      std: refused("'.' with the s flag"),
    },
  ],
  [
    '😀',
    '',
    {
      pcre: refused('a character outside the Basic Multilingual Plane'),
      re2: '😀',
      lucene: '.*(😀).*',
      std: refused("the non-ASCII character '😀'"),
    },
  ],
  [
    'x😀+',
    '',
    {
      pcre: refused('a character outside the Basic Multilingual Plane'),
      re2: refused('a quantifier on a character outside the Basic Multilingual Plane'),
      lucene: refused('a quantifier on a character outside the Basic Multilingual Plane'),
      std: refused("the non-ASCII character '😀'"),
    },
  ],
  [
    'a.{2}',
    '',
    {
      pcre: refused('a counted repeat of a single-character wildcard'),
      re2: refused('a counted repeat of a single-character wildcard'),
      lucene: refused('a counted repeat of a single-character wildcard'),
      std: refused("'.' without '*' or '+'"),
    },
  ],
  [
    'a..',
    '',
    {
      pcre: refused('two single-character wildcards side by side'),
      re2: refused('two single-character wildcards side by side'),
      lucene: refused('two single-character wildcards side by side'),
      std: refused("'.' without '*' or '+'"),
    },
  ],
  // `.`, `x?`, `.` can take the two halves of one emoji in JavaScript: not side by side, still refused.
  [
    'a.x?.',
    '',
    {
      pcre: refused('a single-character wildcard next to a group, an optional part or an assertion'),
      re2: refused('a single-character wildcard next to a group, an optional part or an assertion'),
      lucene: refused('a single-character wildcard next to a group, an optional part or an assertion'),
      std: refused("'.' without '*' or '+'"),
    },
  ],
  // A wildcard inside a group that is not repeated sees what stands outside the group.
  [
    'x(a|.)y',
    '',
    {
      pcre: `x(a|[^${EOL_PCRE}\\x{10000}-\\x{10ffff}])y`,
      re2: 'x(?:a|[^\\n\\r\\x{2028}\\x{2029}\\x{10000}-\\x{10FFFF}])y',
      lucene: `.*(x(a|[^${EOL_LUCENE}${ASTRAL_LUCENE}])y).*`,
      std: refused("'.' without '*' or '+'"),
    },
  ],
  // Repeated, the group may start over: JavaScript could take an emoji as two rounds of `.`.
  [
    'x(.|ab)*y',
    '',
    {
      pcre: refused('a single-character wildcard next to a group, an optional part or an assertion'),
      re2: refused('a single-character wildcard next to a group, an optional part or an assertion'),
      lucene: refused('a single-character wildcard next to a group, an optional part or an assertion'),
      std: refused("'.' without '*' or '+'"),
    },
  ],
  [
    '\\x41\\u00e9\\t',
    '',
    { pcre: 'Aé\\x{9}', re2: 'Aé\\x{9}', lucene: '.*(Aé\t).*', std: refused("the non-ASCII character 'é'") },
  ],
  ['\\cJ', '', { pcre: '\\x{a}', re2: '\\x{A}', lucene: '.*(\n).*', std: '\\cJ' }],
  ['a{', '', { pcre: 'a\\{', re2: 'a\\{', lucene: '.*(a\\{).*', std: refused("a literal '{'") }],
  [
    '\\01',
    '',
    {
      pcre: refused('an octal escape'),
      re2: refused('an octal escape'),
      lucene: refused('an octal escape'),
      std: refused('an octal escape'),
    },
  ],
  [
    '\\Astop',
    '',
    {
      pcre: refused('the escape \\A'),
      re2: refused('the escape \\A'),
      lucene: refused('the escape \\A'),
      std: refused('the escape \\A'),
    },
  ],
]

/** Values that tell the dialects apart, tried against every row. */
const VALUES = [
  '',
  'a',
  'abc',
  'xABCx',
  'a.b-c/',
  'axc',
  'a😀c',
  'a😀',
  '😀',
  'x😀y',
  'x😀😀y',
  'a\nb',
  'a\r\nb',
  'x\n',
  'a\u2028b',
  'b\na',
  'É',
  'é',
  'K',
  'k',
  '\u212a',
  's',
  '\u017f',
  '\u212as',
  'net use',
  'netuse',
  'aab',
  'aaab',
  'ab',
  'b',
  'a b',
  'x1y',
  'xzy',
  'a{',
  'Aé\t',
  '\n',
  'stop',
  'ccc',
  '[k',
  'x_',
  '-',
]

const flagsOf = (f: string): RegexFlags => ({ i: f.includes('i'), m: f.includes('m'), s: f.includes('s') })

function print(dialect: Dialect, source: string, flags: RegexFlags): Want {
  const parsed = parseSigmaRegex(source, flags)
  const printed = 'unsupported' in parsed ? parsed : PRINTERS[dialect](parsed)
  return 'text' in printed ? printed.text : { refused: printed.unsupported.construct }
}

/** The dialect's engine, as the target's verifier models it: does `pattern` select `value`? */
const ENGINES: Readonly<Record<Dialect, (pattern: string, flags: RegexFlags) => (value: string) => boolean>> = {
  pcre: (pattern) => {
    const r = pcreToRegExp(pattern)
    if ('unsupported' in r) throw new Error(`the PCRE model cannot read ${pattern}: ${r.unsupported}`)
    return r.test
  },
  re2: (pattern) => {
    const r = RE2JS.compile(pattern)
    return (v) => r.matcher(v).find()
  },
  // EQL uses `regex~` for the i flag: ASCII letters fold.
  lucene: (pattern, flags) => (v) => luceneMatches(pattern, v, flags.i),
  std: (pattern) => (v) => regex_match(v, pattern, 0) !== null,
}

for (const dialect of ['pcre', 're2', 'lucene', 'std'] as const) {
  describe(`regex dialect ${dialect}`, () => {
    for (const [source, f, want] of ROWS) {
      const flags = flagsOf(f)
      test(`/${source}/${f} → ${JSON.stringify(want[dialect])}`, () => {
        const got = print(dialect, source, flags)
        expect(got).toEqual(want[dialect])
        if (typeof got !== 'string') return
        const js = new RegExp(source, f)
        const engine = ENGINES[dialect](got, flags)
        const disagree = VALUES.filter((v) => engine(v) !== js.test(v))
        expect(disagree, `${got} against JavaScript /${source}/${f}`).toEqual([])
      })
    }
  })
}

describe('the round trip can fail', () => {
  test("RE2's (?i) also matches the Kelvin sign for k; JavaScript's i does not", () => {
    const engine = ENGINES.re2('(?i)k', flagsOf('i'))
    expect(VALUES.filter((v) => engine(v) !== /k/i.test(v))).toEqual(['\u212a', '\u212as'])
  })
  test('a single `.` printed in its full form between two literals matches an emoji JavaScript does not', () => {
    const engine = ENGINES.pcre(`x[^${EOL_PCRE}]y`, flagsOf(''))
    expect(VALUES.filter((v) => engine(v) !== /x.y/.test(v))).toEqual(['x😀y'])
  })
})

describe('one refusal code, the construct in the message', () => {
  test('every backend names the construct under target/unsupported-regex', async () => {
    const { UNSUPPORTED_REGEX, unsupportedRegexMessage } = await import('../../src/regex/index.js')
    expect(UNSUPPORTED_REGEX).toBe('target/unsupported-regex')
    expect(
      unsupportedRegexMessage('kql', 'a\nb(?<=x)', { construct: 'a lookbehind', why: 'RE2 has no lookaround' }),
    ).toBe('kql cannot express the regular expression "a\\nb(?<=x)" exactly: a lookbehind (RE2 has no lookaround)')
  })
})

describe('hostile sizes', () => {
  test('groups nested deeper than the parser reads are refused, not a stack overflow', () => {
    const deep = '('.repeat(5000) + 'a' + ')'.repeat(5000)
    expect(() => new RegExp(deep)).not.toThrow()
    for (const dialect of ['pcre', 're2', 'lucene', 'std'] as const)
      expect(print(dialect, deep, flagsOf(''))).toEqual({ refused: 'groups nested more than 100 deep' })
  })
  test('a wide class under i is closed over case by its cased characters only', () => {
    expect(print('pcre', '[a-\\u9fff]', flagsOf('i'))).toMatch(/^\[.*a-.*\]$/)
    // JavaScript's i never pairs ASCII with ſ or the Kelvin sign: the printable ASCII range stays as it is.
    expect(print('re2', '[!-~]', flagsOf('i'))).toBe('[!-~]')
    expect(print('re2', '[à-æ]', flagsOf('i'))).toBe('[À-Æà-æ]')
  })
})
