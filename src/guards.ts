/**
 * Type guards for values whose type the compiler cannot know (parsed YAML and JSON, template
 * arguments, foreign modules) and for invariants it cannot see (an index inside its array, a key
 * just set). The house rules forbid unchecked casts and non-null assertions (docs/architecture.md,
 * "House rules"): a value is narrowed by a check that runs, and a broken invariant is an internal
 * error at the place it breaks instead of an `undefined` flowing on into an emitted query.
 */

/** A YAML/JSON mapping: an object that is neither null nor an array. */
export const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** An array whose every item is a string. */
export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')

/** `v` is one of `options` (a tuple of string literals): narrows to that union. */
export function isOneOf<T extends string>(options: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && options.some((o) => o === v)
}

/** An invariant of ours was broken: a bug in rulesmith, never a fault in the input. */
export class InternalError extends Error {}

/**
 * `value`, which an invariant of the caller guarantees is there (an index inside its array, a key
 * set just before, a non-empty list's first item); `what` names the invariant for the error.
 */
export function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new InternalError(`internal error: ${what}`)
  return value
}

/** The first item of a list known to be non-empty (a null item is an item: only a missing one is an error). */
export const first = <T>(list: ArrayLike<T>): T => itemAt(list, 0)

/** The last item of a list known to be non-empty. */
export const last = <T>(list: ArrayLike<T>): T => itemAt(list, list.length - 1)

/** The value at `key`, which the caller has set or checked (a null value is a value). */
export function mustGet<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key)
  if (value === undefined) throw new InternalError('internal error: a map entry set before it is read')
  return value
}

/** The text of a JSON scalar (string, number, boolean); undefined for null, lists and mappings. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return undefined
}

/** The message of a caught value: an Error's message, a thrown string as it is, else its JSON. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message
  if (typeof e === 'string') return e
  return scalarText(e) ?? JSON.stringify(e) ?? typeof e
}

/** The `code` of a Node.js system error (ENOENT, ELOOP …), if the caught value has one. */
export function errnoCode(e: unknown): string | undefined {
  const code: unknown = typeof e === 'object' && e !== null ? Reflect.get(e, 'code') : undefined
  return typeof code === 'string' ? code : undefined
}

/** Item `i` of a list the caller knows is longer than `i` (a loop bound, a length checked before). */
export function itemAt<T>(list: ArrayLike<T>, i: number): T {
  const item = list[i]
  if (item === undefined) throw new InternalError(`internal error: item ${i} of a list of ${list.length}`)
  return item
}

/** The code point at `i` of a string the caller knows is longer than `i`. */
export function codePointAt(s: string, i: number): number {
  const cp = s.codePointAt(i)
  if (cp === undefined) throw new InternalError(`internal error: no code point at ${i} of ${s.length}`)
  return cp
}

/** The entry at `key` of a table the caller knows has it (a key checked before, or from the table's own list). */
export function entryOf<V>(table: Readonly<Partial<Record<string, V>>>, key: string): V {
  const entry = table[key]
  if (entry === undefined) throw new InternalError(`internal error: no entry ${JSON.stringify(key)}`)
  return entry
}

/** A document that must be a YAML/JSON mapping (a shipped file, read by our own code): else an error naming it. */
export function mapOf(v: unknown, what: string): Record<string, unknown> {
  if (!isMap(v)) throw new Error(`rulesmith: ${what} is not a mapping`)
  return v
}

/** The text under `key` of an object (a log source, whose keys are its own): undefined unless it is a string. */
export function textAt(obj: object, key: string): string | undefined {
  const v: unknown = Object.prototype.hasOwnProperty.call(obj, key) ? Reflect.get(obj, key) : undefined
  return typeof v === 'string' ? v : undefined
}
