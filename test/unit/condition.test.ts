import { describe, expect, it } from 'vitest'
import { parseCondition, type Condition } from '../../grammars/condition.js'

/** A compact rendering of the condition tree, to compare structure. */
function show(c: Condition): string {
  switch (c.kind) {
    case 'and':
      return `(${c.items.map(show).join(' & ')})`
    case 'or':
      return `(${c.items.map(show).join(' | ')})`
    case 'not':
      return `!${show(c.item)}`
    case 'ref':
      return c.name
    case 'of':
      return `${c.quantifier}(${c.target})`
  }
}

const parse = (s: string) => {
  const r = parseCondition(s)
  if (!r.condition) throw new Error(r.errors[0]!.message)
  return show(r.condition)
}

describe('condition grammar', () => {
  it('parses identifiers and the boolean operators', () => {
    expect(parse('sel')).toBe('sel')
    expect(parse('a and b')).toBe('(a & b)')
    expect(parse('a or b')).toBe('(a | b)')
    expect(parse('not a')).toBe('!a')
    expect(parse('not not a')).toBe('!!a')
  })

  it('binds and tighter than or, and not tighter than and (spec precedence)', () => {
    expect(parse('a or b and c')).toBe('(a | (b & c))')
    expect(parse('a and b or c')).toBe('((a & b) | c)')
    expect(parse('not a and b')).toBe('(!a & b)')
    expect(parse('not a or b')).toBe('(!a | b)')
    expect(parse('a and not b or not c and d')).toBe('((a & !b) | (!c & d))')
  })

  it('lets parentheses override precedence', () => {
    expect(parse('(a or b) and c')).toBe('((a | b) & c)')
    expect(parse('not (a or b)')).toBe('!(a | b)')
    expect(parse('((a))')).toBe('a')
  })

  it('parses the x-of forms, binding tighter than not', () => {
    expect(parse('1 of them')).toBe('one(them)')
    expect(parse('all of them')).toBe('all(them)')
    expect(parse('1 of sel*')).toBe('one(sel*)')
    expect(parse('all of filter_*')).toBe('all(filter_*)')
    expect(parse('not 1 of filter*')).toBe('!one(filter*)')
    expect(parse('sel and not 1 of filter_* or all of x*')).toBe('((sel & !one(filter_*)) | all(x*))')
    expect(parse('1 of selection_a')).toBe('one(selection_a)')
  })

  it('keeps words that only start with a keyword as identifiers', () => {
    expect(parse('notepad or android')).toBe('(notepad | android)')
    expect(parse('ofsel and themes and all_of')).toBe('(ofsel & themes & all_of)')
    expect(parse('sel-1 and sel.2')).toBe('(sel-1 & sel.2)')
  })

  it('records offsets of each node in the condition text', () => {
    const r = parseCondition('sel and not filter')
    expect(r.condition).toMatchObject({
      kind: 'and',
      items: [
        { kind: 'ref', offset: 0 },
        { kind: 'not', offset: 8, item: { kind: 'ref', name: 'filter', offset: 12 } },
      ],
    })
  })

  it.each([
    ['sel and or x', 8, /expected .*search identifier.*found 'or'/],
    ['sel &&', 4, /unexpected '&&' in condition/],
    ['(a or b', 7, /expected '\)', found end of condition/],
    ['a b', 2, /expected 'and', 'or' or the end of the condition, found 'b'/],
    ['not', 3, /found end of condition/],
    ['1 of', 4, /expected 'them' or search identifier/],
    ['2 of them', 2, /expected 'and', 'or'/],
    ['', 0, /condition is empty/],
    ['a and )', 6, /found '\)'/],
  ])('reports %j at offset %i', (text, offset, message) => {
    const r = parseCondition(text)
    expect(r.condition).toBeUndefined()
    expect(r.errors[0]!.offset).toBe(offset)
    expect(r.errors[0]!.message).toMatch(message)
  })
})

describe('obsolete aggregations', () => {
  it('names Sigma v1 aggregation syntax and points at the pipe', () => {
    const r = parseCondition('selection | count(dst) by src > 10')
    expect(r.errors[0]).toEqual({
      offset: 10,
      message: "aggregation after '|' in the condition is obsolete Sigma (v1) syntax; express it as a correlation rule",
    })
  })
})

describe('nesting', () => {
  it('refuses conditions nested deeper than any real rule instead of overflowing the stack', () => {
    const parens = parseCondition('('.repeat(5000) + 'sel' + ')'.repeat(5000))
    expect(parens.errors[0]).toEqual({ offset: 100, message: 'condition nests more than 100 levels deep' })
    const nots = parseCondition('not '.repeat(5000) + 'sel')
    expect(nots.errors[0]!.message).toBe('condition nests more than 100 levels deep')
    expect(parseCondition('('.repeat(100) + 'sel' + ')'.repeat(100)).condition).toEqual({
      kind: 'ref',
      name: 'sel',
      offset: 100,
    })
    expect(parseCondition(Array.from({ length: 300 }, (_, i) => `not s${i}`).join(' and ')).condition?.kind).toBe('and')
  })
})
