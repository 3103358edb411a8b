/**
 * Conjuncts: a rule as the list of conditions that must all hold, with double negations removed
 * and `not (a or b)` opened into `not a`, `not b` (De Morgan) where `keepWhole` says the NOT cannot
 * be rendered as one piece. The parts `keepWhole` accepts stay together as one `not (…)`. Exact when
 * every rendered leaf is two-valued (true or false, never unknown).
 */
import { not, or, type Node } from '../ast/nodes.js'

export function conjuncts(node: Node, keepWhole: (n: Node) => boolean): Node[] {
  if (node.kind === 'And') return node.items.flatMap((n) => conjuncts(n, keepWhole))
  if (node.kind === 'Not' && node.item.kind === 'Not') return conjuncts(node.item.item, keepWhole)
  if (node.kind === 'Not' && node.item.kind === 'Or' && !keepWhole(node)) {
    const whole = node.item.items.filter(keepWhole)
    const rest = node.item.items.filter((n) => !keepWhole(n))
    return [...(whole.length > 0 ? [not(or(whole))] : []), ...rest.flatMap((n) => conjuncts(not(n), keepWhole))]
  }
  return [node]
}
