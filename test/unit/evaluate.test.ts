import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { evaluate, getField, patternMatcher } from '../../src/evaluate/evaluate.js'
import { ipInCidr, parseIp } from '../../src/evaluate/cidr.js'
import type { Pattern } from '../../src/ast/nodes.js'
import { rule } from '../support/rules.js'

/** Which of the events the rule selects, as indexes. */
function selects(
  detection: string,
  events: Record<string, unknown>[],
  placeholders?: Record<string, string[]>,
): number[] {
  const r = rule(detection, placeholders ? { placeholders } : {})
  return events.flatMap((e, i) => (evaluate(r.detection, e) ? [i] : []))
}
const sel = (key: string, value: string, condition = 'sel') => `
    sel:
        ${key}: ${value}
    condition: ${condition}`

describe('reference evaluator', () => {
  it('matches case-insensitively by default, exactly with |cased', () => {
    const events = [{ F: 'Stop' }, { F: 'STOP' }, { F: 'stop' }, { F: 'stops' }, { F: ' stop' }, {}]
    expect(selects(sel('F', 'stop'), events)).toEqual([0, 1, 2])
    expect(selects(sel('F|cased', 'Stop'), events)).toEqual([0])
  })

  it('folds ASCII letters only (docs/semantics.md, "Case folding")', () => {
    const events = [{ F: 'ÉCOLE' }, { F: 'école' }, { F: 'ÉcOlE' }, { F: 'STRASSE' }, { F: 'straße' }]
    expect(selects(sel('F', 'école'), events)).toEqual([1])
    expect(selects(sel('F', 'ÉCOLE'), events)).toEqual([0, 2])
    expect(selects(sel('F', 'straße'), events)).toEqual([4])
    // The Kelvin sign, long s, dotted and dotless I are not k, s and i under ASCII folding.
    const odd = [{ F: 'KILL' }, { F: '\u212aILL' }, { F: 'KIL\u017f' }, { F: 'K\u0130LL' }, { F: 'K\u0131LL' }]
    expect(selects(sel('F', 'kill'), odd)).toEqual([0])
    expect(selects(sel('F', "'k*'"), odd)).toEqual([0, 2, 3, 4])
    expect(selects(sel('F', "'*s'"), [{ F: 'a\u017f' }, { F: 'aS' }])).toEqual([1])
  })

  it('treats * as any run and ? as exactly one character', () => {
    const events = [{ F: 'ab' }, { F: 'axb' }, { F: 'axxb' }, { F: 'a\nb' }, { F: 'a😀b' }, { F: 'a' }]
    expect(selects(sel('F', "'a?b'"), events)).toEqual([1, 3, 4])
    expect(selects(sel('F', "'a*b'"), events)).toEqual([0, 1, 2, 3, 4])
  })

  it('keeps escaped wildcards literal', () => {
    const events = [{ F: 'a*b' }, { F: 'axb' }, { F: 'a?b' }, { F: 'a\\xb' }, { F: 'a\\b' }]
    expect(selects(sel('F', "'a\\*b'"), events)).toEqual([0])
    expect(selects(sel('F', "'a\\?b'"), events)).toEqual([2])
    expect(selects(sel('F', "'a\\\\*b'"), events)).toEqual([3, 4])
  })

  it('never matches a missing or null field, except with null / exists: false', () => {
    const events = [{}, { F: null }, { F: '' }, { F: 'x' }]
    expect(selects(sel('F|contains', "''"), events)).toEqual([2, 3])
    expect(selects(sel('F', "''"), events)).toEqual([2])
    expect(selects(sel('F', 'null'), events)).toEqual([0, 1])
    expect(selects(sel('F|exists', 'true'), events)).toEqual([2, 3])
    expect(selects(sel('F|exists', 'false'), events)).toEqual([0, 1])
    expect(selects(sel('F', "'*'"), events)).toEqual([2, 3])
  })

  it('keeps events without the field under not', () => {
    expect(selects(sel('F', 'x', 'not sel'), [{}, { F: 'x' }, { F: 'y' }])).toEqual([0, 2])
  })

  it('neq needs the field and differs from every value', () => {
    expect(selects(sel('F|neq', '[a, b]'), [{}, { F: 'a' }, { F: 'B' }, { F: 'c' }, { F: null }])).toEqual([3])
  })

  it('matches numbers and booleans through their text; arrays by any element', () => {
    expect(
      selects(sel('EventID', '4688'), [
        { EventID: 4688 },
        { EventID: '4688' },
        { EventID: 46880 },
        { EventID: [1, 4688] },
      ]),
    ).toEqual([0, 1, 3])
    expect(selects(sel('Enabled', 'true'), [{ Enabled: true }, { Enabled: 'TRUE' }, { Enabled: false }])).toEqual([
      0, 1,
    ])
  })

  it('reaches nested objects with dotted names, exact keys first', () => {
    const events = [{ process: { name: 'sc.exe' } }, { 'process.name': 'sc.exe' }, { process: 'sc.exe' }]
    expect(selects(sel('process.name', 'sc.exe'), events)).toEqual([0, 1])
    expect(getField({ a: { b: { c: 1 } } }, 'a.b.c')).toBe(1)
  })

  it('searches regexes unanchored, case-sensitive unless i, with m and s', () => {
    const events = [{ F: 'xxABCxx' }, { F: 'xxabcxx' }, { F: 'line1\nabc' }, { F: 'a\nc' }]
    expect(selects(sel('F|re', 'abc'), events)).toEqual([1, 2])
    expect(selects(sel('F|re|i', 'abc'), events)).toEqual([0, 1, 2])
    expect(selects(sel('F|re', "'^abc'"), events)).toEqual([])
    expect(selects(sel('F|re|m', "'^abc'"), events)).toEqual([2])
    expect(selects(sel('F|re', "'a.c'"), events)).toEqual([1, 2])
    expect(selects(sel('F|re|s', "'^a.c$'"), events)).toEqual([3])
  })

  it('matches IPv4 and IPv6 CIDR by family', () => {
    const events = [
      { Ip: '10.1.2.3' },
      { Ip: '11.0.0.1' },
      { Ip: 'fe80::1' },
      { Ip: '::ffff:10.0.0.1' },
      { Ip: 'not-an-ip' },
      { Ip: '010.0.0.1' },
    ]
    expect(selects(sel('Ip|cidr', '10.0.0.0/8'), events)).toEqual([0])
    expect(selects(sel('Ip|cidr', "'fe80::/10'"), events)).toEqual([2])
    expect(ipInCidr('192.168.1.255', '192.168.1.0/24')).toBe(true)
    expect(ipInCidr('192.168.2.0', '192.168.1.0/24')).toBe(false)
    expect(parseIp('1:2:3:4:5:6:7:8:9')).toBeUndefined()
  })

  it('compares numbers, reading numeric strings', () => {
    const events = [{ N: 5 }, { N: '10' }, { N: 'ten' }, { N: 2 }, {}]
    expect(selects(sel('N|gt', '4'), events)).toEqual([0, 1])
    expect(selects(sel('N|lte', '5'), events)).toEqual([0, 3])
  })

  it('compares field references case-insensitively unless cased', () => {
    const events = [{ A: 'x', B: 'X' }, { A: 'x', B: 'x' }, { A: 'x' }, { A: 'x', B: 'y' }]
    expect(selects(sel('A|fieldref', 'B'), events)).toEqual([0, 1])
    expect(selects(sel('A|fieldref|cased', 'B'), events)).toEqual([1])
  })

  it('searches keywords in every string value, nested ones too', () => {
    const kw = `
    keywords:
        - 'EVIL'
    condition: keywords`
    expect(
      selects(kw, [{ a: 'so evil' }, { a: { b: ['fine', 'evil!'] } }, { a: 'good' }, { evil: 'key only' }, { n: 1 }]),
    ).toEqual([0, 1])
  })

  it('evaluates base64offset and windash variants', () => {
    const b64 = Buffer.from('xxhttp://yy').toString('base64')
    expect(
      selects(sel('F|base64offset|contains', 'http://'), [
        { F: b64 },
        { F: Buffer.from('x' + 'http://').toString('base64') },
        { F: 'aHR0' },
      ]),
    ).toEqual([0, 1])
    expect(
      selects(sel('F|windash|contains', "' -enc '"), [
        { F: 'ps -enc x' },
        { F: 'ps /enc x' },
        { F: 'ps –enc x' },
        { F: 'ps enc x' },
      ]),
    ).toEqual([0, 1, 2])
  })
})

describe('pattern matcher (property)', () => {
  // An independent oracle: dynamic programming over code points, ASCII letters folded.
  const fold = (s: string): string => [...s].map((c) => (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c)).join('')
  function oracle(pattern: Pattern, value: string): boolean {
    const v = [...fold(value)]
    const p = pattern.flatMap<{ lit: string } | 'ANY' | 'ONE'>((s) =>
      s.kind === 'lit' ? [...fold(s.text)].map((lit) => ({ lit })) : [s.kind === 'any' ? 'ANY' : 'ONE'],
    )
    const memo = new Map<string, boolean>()
    const go = (i: number, j: number): boolean => {
      const key = `${i},${j}`
      if (memo.has(key)) return memo.get(key)!
      let r: boolean
      if (i === p.length) r = j === v.length
      else if (p[i] === 'ANY') r = go(i + 1, j) || (j < v.length && go(i, j + 1))
      else if (j === v.length) r = false
      else if (p[i] === 'ONE') r = go(i + 1, j + 1)
      else r = (p[i] as { lit: string }).lit === v[j] && go(i + 1, j + 1)
      memo.set(key, r)
      return r
    }
    return go(0, 0)
  }
  const alphabet = fc.constantFrom(
    'a',
    'B',
    'k',
    's',
    '\u212a',
    '\u017f',
    '\u0130',
    '*',
    '?',
    '\\',
    '.',
    'é',
    'É',
    '\n',
    '😀',
  )
  const segment = fc.oneof(
    fc.array(alphabet, { maxLength: 3 }).map((cs) => ({ kind: 'lit' as const, text: cs.join('') })),
    fc.constant({ kind: 'any' as const }),
    fc.constant({ kind: 'one' as const }),
  )
  it('agrees with a naive matcher on hostile strings', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 5 }), fc.array(alphabet, { maxLength: 6 }), (pattern, chars) => {
        const value = chars.join('')
        expect(patternMatcher(pattern, false)(value)).toBe(oracle(pattern, value))
      }),
      { numRuns: 2000, seed: 1489 },
    )
  })
})
