/**
 * Presence: `not (f exists)` is `f is null` and `not (f is null)` is `f exists`, both two-valued,
 * so a target whose null tests are plain comparisons writes the opposite test instead of a NOT.
 * Applied once, top-down: a NOT directly over a presence test becomes the opposite test; the result
 * is not rewritten again (`not not exists` stays `not (is null)`).
 */
import type { Node } from '../ast/nodes.js'

export function negatePresence(node: Node): Node {
  switch (node.kind) {
    case 'Not': {
      const item = node.item
      if (item.kind === 'Exists') return { ...item, kind: 'Null' }
      if (item.kind === 'Null') return { ...item, kind: 'Exists' }
      const inner = negatePresence(item)
      return inner === item ? node : { ...node, item: inner }
    }
    case 'And':
    case 'Or': {
      const items = node.items.map(negatePresence)
      return items.every((n, i) => n === node.items[i]) ? node : { ...node, items }
    }
    default:
      return node
  }
}
