/**
 * Reading a field of a JSON event, by the evaluator and by the correlation loader (event-time):
 * a module of its own so that loading rules does not load the evaluator.
 */
import type { JsonEvent } from '../rule/rule.js'

/** Exact key first (`a.b` may be a flat key), else a dotted path into nested objects. */
export function getField(event: JsonEvent, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(event, name)) return event[name]
  if (!name.includes('.')) return undefined
  let cur: unknown = event
  for (const part of name.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined
    cur = Reflect.get(cur, part)
  }
  return cur
}
