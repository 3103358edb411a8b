/**
 * Where the reference follows the Sigma specification's words and where it departs on purpose
 * (docs/semantics.md gives the reasons): exists and JSON null, empty and missing values, the regex
 * flavour, and base64 under case-insensitivity. Each test pins one decision, so changing it is a
 * visible choice.
 */
import { describe, expect, it } from 'vitest'
import { evaluate } from '../../src/evaluate/evaluate.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { rule } from '../support/rules.js'

const selects = (detection: string, events: readonly JsonEvent[]): number[] => {
  const r = rule(detection)
  return events.flatMap((e, i) => (evaluate(r.detection, e) ? [i] : []))
}

const EMPTY_NULL_MISSING: JsonEvent[] = [{ F: 'x' }, { F: '' }, { F: null }, {}]

describe('exists, null, empty and missing', () => {
  it('exists: a JSON null counts as absent (departure: the spec says "be it empty or null"; no target holds a null apart from a missing field)', () => {
    expect(selects('  sel:\n    F|exists: true\n  condition: sel', EMPTY_NULL_MISSING)).toEqual([0, 1])
    expect(selects('  sel:\n    F|exists: false\n  condition: sel', EMPTY_NULL_MISSING)).toEqual([2, 3])
  })
  it('null is absent or JSON null, and an empty string is a value (spec: "An empty value is defined with \'\'")', () => {
    expect(selects('  sel:\n    F: null\n  condition: sel', EMPTY_NULL_MISSING)).toEqual([2, 3])
    expect(selects("  sel:\n    F: ''\n  condition: sel", EMPTY_NULL_MISSING)).toEqual([1])
    expect(selects("  sel:\n    F: '*'\n  condition: sel", EMPTY_NULL_MISSING)).toEqual([0, 1])
  })
})

describe('regex flavour: JavaScript without u (departure: the spec names PCRE)', () => {
  it('. counts UTF-16 code units: an emoji is two, where PCRE would count one', () => {
    const events = [{ F: '😀' }, { F: 'ab' }, { F: 'a' }]
    expect(selects("  sel:\n    F|re: '^.$'\n  condition: sel", events)).toEqual([2])
    expect(selects("  sel:\n    F|re: '^..$'\n  condition: sel", events)).toEqual([0, 1])
  })
  it('|re|i folds as JavaScript i: é with É, but not the Kelvin sign with k nor ſ with s (PCRE and RE2 would)', () => {
    const events = [{ F: 'É' }, { F: '\u212a' }, { F: 'K' }, { F: '\u017f' }, { F: 'S' }]
    expect(selects("  sel:\n    F|re|i: '^é$'\n  condition: sel", events)).toEqual([0])
    expect(selects("  sel:\n    F|re|i: '^k$'\n  condition: sel", events)).toEqual([2])
    expect(selects("  sel:\n    F|re|i: '^s$'\n  condition: sel", events)).toEqual([4])
  })
  it('values fold ASCII letters only, unlike |re|i: é and É differ as values', () => {
    expect(selects("  sel:\n    F: 'é'\n  condition: sel", [{ F: 'É' }, { F: 'é' }])).toEqual([1])
  })
})

describe('|base64 and |base64offset under case-insensitivity (follows the spec: "All values are treated as case-insensitive strings")', () => {
  // base64('abc') = YWJj; ywjj decodes to other bytes, and is still selected without |cased.
  const events = [{ F: 'xYWJjx' }, { F: 'xywjjx' }, { F: 'x' }]
  it('the encoded text matches case-insensitively by default', () => {
    expect(selects("  sel:\n    F|base64|contains: 'abc'\n  condition: sel", events)).toEqual([0, 1])
  })
  it('|cased keeps the exact encoding', () => {
    expect(selects("  sel:\n    F|base64|contains|cased: 'abc'\n  condition: sel", events)).toEqual([0])
  })
  it('base64offset: each of the three offsets, case-insensitively', () => {
    // The three encodings of 'abc' at offsets 0, 1, 2 hold YWJj, FhYm, hYmM in their middle.
    const offsets = [{ F: 'yWJj' }, { F: 'fhym' }, { F: 'HYMM' }, { F: 'zzzz' }]
    expect(selects("  sel:\n    F|base64offset|contains: 'abc'\n  condition: sel", offsets)).toEqual([0, 1, 2])
  })
})
