/**
 * A counted repeat of `.`, a negated class or \S \D \W between two character boundaries, in RE2:
 * JavaScript (no `u`) counts UTF-16 units, so an emoji is two of them; the printer spells the run
 * out as the sequences of BMP characters (one unit) and astral ones (two units) whose length is in
 * range. Every subject built from emoji, accented letters, line breaks and backslashes must get
 * JavaScript's answer from RE2 (re2js, as the KQL verifier runs it); RE2's own `{m,n}`, which
 * counts characters, must not.
 */
import { describe, expect, test } from 'vitest'
import { RE2JS } from 're2js'
import { parseSigmaRegex } from '../../src/regex/parse.js'
import { toRe2 } from '../../src/regex/re2.js'
import type { RegexFlags } from '../../src/regex/ast.js'

const flagsOf = (f: string): RegexFlags => ({ i: f.includes('i'), m: f.includes('m'), s: f.includes('s') })

const MIDDLE = ['x', 'X', '😀', 'é', '\n', '\\', '/']
const middles: string[] = ['']
for (let n = 1; n <= 4; n++)
  for (const m of middles.filter((s) => [...s].length === n - 1)) for (const c of MIDDLE) middles.push(m + c)

const re2 = (source: string, flags: string): string => {
  const r = parseSigmaRegex(source, flagsOf(flags))
  if ('unsupported' in r) throw new Error(r.unsupported.construct)
  const printed = toRe2(r)
  if ('unsupported' in printed) throw new Error(printed.unsupported.construct)
  return printed.text
}

const CASES: ReadonlyArray<readonly [source: string, flags: string, before: string, after: string]> = [
  ['c.{0,3}/', '', 'c', '/'],
  ['c.{2,4}/', 's', 'c', '/'],
  ['^C:\\\\.{1,3}\\.exe', '', 'C:\\', '.exe'],
  ['c[^\\\\]{1,4}$', '', 'c', ''],
  ['c\\S{2,3}/', '', 'c', '/'],
  ['c[^x]{0,2}/', 'i', 'c', '/'],
]

describe('counted repeats of a unit: RE2 gets JavaScript answer on whole characters', () => {
  for (const [source, flags, before, after] of CASES)
    test(`/${source}/${flags}`, () => {
      const js = new RegExp(source, flags)
      const engine = RE2JS.compile(re2(source, flags))
      const subjects = middles.flatMap((m) => [before + m + after, `z${before}${m}${after}z`, before + m])
      const disagree = subjects.filter((v) => engine.matcher(v).find() !== js.test(v))
      expect(disagree).toEqual([])
      expect(subjects.filter((v) => js.test(v)).length).toBeGreaterThan(10)
    })

  test("RE2's own {m,n} counts characters: an emoji is one, and the answer changes", () => {
    const js = /c.{0,3}\//
    const plain = RE2JS.compile('c[^\\x{A}\\x{D}\\x{2028}\\x{2029}]{0,3}/')
    const subjects = middles.map((m) => `c${m}/`)
    expect(subjects.filter((v) => plain.matcher(v).find() !== js.test(v)).length).toBeGreaterThan(0)
  })

  test('at a free edge, next to an assertion, or too long to spell out, it stays refused', () => {
    for (const source of ['a.{2}', 'a\\b.{1,3}d', 'a.{1,40}b']) {
      const r = parseSigmaRegex(source, flagsOf(''))
      if ('unsupported' in r) throw new Error(r.unsupported.construct)
      const printed = toRe2(r)
      expect('unsupported' in printed, source).toBe(true)
    }
  })
})
