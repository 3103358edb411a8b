/**
 * Flatten: an And inside an And (an Or inside an Or) is one run, and a one-item And/Or is its item.
 * Exact (both operators are associative); renderers that join runs with one operator want runs.
 */
import type { Node } from '../ast/nodes.js'

export function flatten(node: Node): Node {
  if (node.kind === 'Not') {
    const item = flatten(node.item)
    return item === node.item ? node : { ...node, item }
  }
  if (node.kind !== 'And' && node.kind !== 'Or') return node
  let changed = node.items.length === 1
  const items: Node[] = []
  for (const i of node.items) {
    const f = flatten(i)
    if (f.kind === node.kind) {
      items.push(...f.items)
      changed = true
    } else {
      items.push(f)
      if (f !== i) changed = true
    }
  }
  if (!changed) return node
  const [only] = items
  return items.length === 1 && only ? only : { kind: node.kind, items }
}
