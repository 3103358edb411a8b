/**
 * The detection AST: what a Sigma rule's `detection` means once every modifier and escape has
 * been applied. Backends, the reference evaluator and the tests all read this one module first.
 *
 * Values are already decoded: a `Pattern` is literal text plus wildcard parts, so no consumer
 * ever sees Sigma's `\*` / `\?` / `\\` escaping again. Semantics are in docs/semantics.md.
 */

/** A place in a rule file, 0-based (formatters print 1-based). */
export interface Pos {
  readonly line: number
  readonly col: number
}

/** One piece of a value: literal text, `*` (any run, maybe empty) or `?` (exactly one character). */
export type Segment =
  { readonly kind: 'lit'; readonly text: string } | { readonly kind: 'any' } | { readonly kind: 'one' }

/** A decoded Sigma value. `[lit "abc"]` is an exact value; `[any, lit "abc", any]` is `contains`. */
export type Pattern = readonly Segment[]

export type CompareOp = 'lt' | 'lte' | 'gt' | 'gte'

/**
 * The node kinds. Field names are Sigma taxonomy names (`Image`, `CommandLine`); a target maps
 * them. `at` points at the YAML value the node came from, for diagnostics.
 */
export type Node =
  /** All items hold. Never empty. */
  | { readonly kind: 'And'; readonly items: readonly Node[] }
  /** At least one item holds. Never empty. */
  | { readonly kind: 'Or'; readonly items: readonly Node[] }
  | { readonly kind: 'Not'; readonly item: Node }
  /** The field's value matches the pattern as a whole (wildcards), case-insensitively unless `cased`. */
  | {
      readonly kind: 'Match'
      readonly field: string
      readonly pattern: Pattern
      readonly cased: boolean
      readonly at?: Pos
    }
  /** The field's value contains a match of the regular expression (unanchored search). */
  | {
      readonly kind: 'Regex'
      readonly field: string
      readonly source: string
      readonly flags: RegexFlags
      readonly at?: Pos
    }
  /** The field's value is an IP address inside the network. */
  | { readonly kind: 'Cidr'; readonly field: string; readonly cidr: string; readonly family: 4 | 6; readonly at?: Pos }
  /** The field's value, read as a number, compares to `value`. */
  | {
      readonly kind: 'Compare'
      readonly field: string
      readonly op: CompareOp
      readonly value: number
      readonly at?: Pos
    }
  /** The field is present with a non-null value (an empty string is present). */
  | { readonly kind: 'Exists'; readonly field: string; readonly at?: Pos }
  /** The field is absent or null: exactly `Not(Exists)`, kept as its own kind for `field: null`. */
  | { readonly kind: 'Null'; readonly field: string; readonly at?: Pos }
  /** Both fields are present and their values are equal (case-insensitively unless `cased`). */
  | {
      readonly kind: 'FieldRef'
      readonly field: string
      readonly ref: string
      readonly cased: boolean
      readonly at?: Pos
    }
  /** Some string value anywhere in the event matches the pattern as a whole (already wrapped in `*…*`). */
  | { readonly kind: 'Keyword'; readonly pattern: Pattern; readonly cased: boolean; readonly at?: Pos }

export interface RegexFlags {
  readonly i: boolean
  readonly m: boolean
  readonly s: boolean
}

export type NodeKind = Node['kind']
export type NodeOf<K extends NodeKind> = Extract<Node, { kind: K }>

/** One handler per kind: adding a kind breaks every fold until it is handled. */
export type Fold<R> = { readonly [K in NodeKind]: (node: NodeOf<K>, recur: (n: Node) => R) => R }

function unknownKind(n: never): never {
  throw new Error(`internal error: a node of unknown kind ${JSON.stringify(n)}`)
}

export function fold<R>(node: Node, handlers: Fold<R>): R {
  // A switch, not `handlers[n.kind](n, …)`: TypeScript cannot tie the handler to the narrowed node.
  const recur = (n: Node): R => {
    switch (n.kind) {
      case 'And':
        return handlers.And(n, recur)
      case 'Or':
        return handlers.Or(n, recur)
      case 'Not':
        return handlers.Not(n, recur)
      case 'Match':
        return handlers.Match(n, recur)
      case 'Regex':
        return handlers.Regex(n, recur)
      case 'Cidr':
        return handlers.Cidr(n, recur)
      case 'Compare':
        return handlers.Compare(n, recur)
      case 'Exists':
        return handlers.Exists(n, recur)
      case 'Null':
        return handlers.Null(n, recur)
      case 'FieldRef':
        return handlers.FieldRef(n, recur)
      case 'Keyword':
        return handlers.Keyword(n, recur)
      default:
        return unknownKind(n)
    }
  }
  return recur(node)
}

export function and(items: readonly Node[]): Node {
  return junction('And', items)
}

export function or(items: readonly Node[]): Node {
  return junction('Or', items)
}

/** An And/Or with nested ones of the same kind flattened; a single item stands alone. */
function junction(kind: 'And' | 'Or', items: readonly Node[]): Node {
  const [only] = items
  if (items.length === 1 && only) return only
  let flat: Node[] | undefined
  for (const [i, n] of items.entries()) {
    if (n.kind === kind) {
      flat ??= items.slice(0, i)
      flat.push(...n.items)
    } else if (flat) flat.push(n)
  }
  return { kind, items: flat ?? items }
}

export function not(item: Node): Node {
  return { kind: 'Not', item }
}

/** Every field name the node reads (keywords read the whole event and add none). */
export function fieldsOf(node: Node): string[] {
  const out = new Set<string>()
  const walk = (n: Node): void => {
    switch (n.kind) {
      case 'And':
      case 'Or':
        n.items.forEach(walk)
        return
      case 'Not':
        walk(n.item)
        return
      case 'Keyword':
        return
      case 'FieldRef':
        out.add(n.field)
        out.add(n.ref)
        return
      default:
        out.add(n.field)
    }
  }
  walk(node)
  return [...out]
}
