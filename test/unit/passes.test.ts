/** The lowering passes (src/passes/): each rewrite on small trees, and what it leaves alone. */
import { describe, expect, it } from 'vitest'
import type { Node } from '../../src/ast/nodes.js'
import { joinInGroups, joinInHalves } from '../../src/passes/balance.js'
import { conjuncts } from '../../src/passes/conjuncts.js'
import { flatten } from '../../src/passes/flatten.js'
import { negatePresence } from '../../src/passes/presence.js'

const m = (field: string): Node => ({ kind: 'Match', field, pattern: [{ kind: 'lit', text: 'x' }], cased: false })
const exists = (field: string): Node => ({ kind: 'Exists', field })
const isNull = (field: string): Node => ({ kind: 'Null', field })
const and = (...items: Node[]): Node => ({ kind: 'And', items })
const or = (...items: Node[]): Node => ({ kind: 'Or', items })
const not = (item: Node): Node => ({ kind: 'Not', item })

describe('flatten', () => {
  it('joins nested runs of one operator and unwraps one-item runs', () => {
    expect(flatten(and(m('a'), and(m('b'), or(m('c'))), not(or(or(m('d'), m('e'))))))).toEqual(
      and(m('a'), m('b'), m('c'), not(or(m('d'), m('e')))),
    )
  })
  it('returns the same node when nothing changes', () => {
    const n = or(m('a'), and(m('b'), m('c')))
    expect(flatten(n)).toBe(n)
  })
})

describe('negatePresence', () => {
  it('writes the opposite test for a NOT over a presence test, anywhere', () => {
    expect(negatePresence(and(not(exists('a')), or(m('b'), not(isNull('c')))))).toEqual(
      and(isNull('a'), or(m('b'), exists('c'))),
    )
  })
  it('rewrites once, top-down: not not exists stays not (is null)', () => {
    expect(negatePresence(not(not(exists('a'))))).toEqual(not(isNull('a')))
  })
  it('leaves a NOT over anything else', () => {
    const n = not(m('a'))
    expect(negatePresence(n)).toBe(n)
  })
})

describe('conjuncts', () => {
  const keepMatches = (n: Node): boolean =>
    n.kind === 'Match' || (n.kind === 'Not' && keepMatches(n.item)) || (n.kind === 'Or' && n.items.every(keepMatches))
  it('lists the parts of an AND, removing double negations', () => {
    expect(conjuncts(and(m('a'), and(not(not(m('b'))), m('c'))), keepMatches)).toEqual([m('a'), m('b'), m('c')])
  })
  it('opens not (a or b) when the whole cannot stay, keeping the parts that can together', () => {
    expect(conjuncts(not(or(m('a'), exists('b'), m('c'))), keepMatches)).toEqual([
      not(or(m('a'), m('c'))),
      not(exists('b')),
    ])
    expect(conjuncts(not(or(m('a'), m('c'))), keepMatches)).toEqual([not(or(m('a'), m('c')))])
  })
})

describe('balanced joins', () => {
  const parts = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`)
  it('groups: up to the size flat, beyond it parenthesised groups of groups', () => {
    expect(joinInGroups(parts(3), ' or ', 3)).toBe('p0 or p1 or p2')
    expect(joinInGroups(parts(5), ' or ', 2)).toBe('((p0 or p1) or (p2 or p3)) or ((p4))')
  })
  it('halves: up to the maximum flat, beyond it parenthesised halves', () => {
    expect(joinInHalves(parts(2), ' AND ', 2)).toBe('p0 AND p1')
    expect(joinInHalves(parts(5), ' AND ', 2)).toBe('(p0 AND p1) AND ((p2) AND (p3 AND p4))')
  })
})
