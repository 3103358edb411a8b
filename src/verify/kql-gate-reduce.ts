/**
 * A shorter query for the KQL gate that Microsoft's binder judges as it judges the whole one.
 *
 * Kusto.Language binds every `or`/`and` and every comparison of a query one by one, about a
 * millisecond each in its Bridge.NET build: a rule with a list of 100,000 values gives a query
 * that takes a minute to check. Such a query is almost all the same term, `Col op "literal"`,
 * repeated with another literal. The binder's verdict on such a term does not depend on the
 * literal's text, only on the column, the operator and the token being a string literal, so a
 * chain that repeats a term keeps two copies of each shape and drops the rest:
 *
 *   (Col contains "a" or Col contains "b" or … or Col contains "z")  →  (Col contains "a" or Col contains "b")
 *
 * What makes that sound:
 *
 * - Every token of the whole query has been read by Microsoft's lexer, with no diagnostic, before
 *   anything is dropped (a bad escape or an unterminated literal is the lexer's finding), and the
 *   query is checked whole whenever the lexer reports anything.
 * - Only whole operands of a chain are dropped: the chain is split at its `or` tokens (and each
 *   part at its `and` tokens), outside any parentheses, so an operand is never part of a tighter
 *   expression. An operand may be dropped only if it is exactly `Identifier op StringLiteral` with
 *   `op` a string comparison whose meaning does not read the literal's text (not `matches regex`,
 *   whose pattern the binder parses), a parenthesised chain of such operands, or
 *   `Identifier in~ ("…", "…")` with a list of string literals; two copies of the same shape
 *   (same identifier, same operator, literals masked) are kept, so each operator is still bound.
 * - Nothing else is dropped or changed: any other literal, function call, pipe or name stays.
 *
 * The gate checks the whole query when the short one has an error, so an error is always reported
 * at its place in the emitted text.
 */

/** A token as the gate reads it from Microsoft's lexer: its kind, its text and the trivia before it. */
export interface GateToken {
  readonly kind: 'string' | 'identifier' | 'open' | 'close' | 'or' | 'and' | 'comma' | 'other'
  readonly text: string
  readonly trivia: string
}

/** String comparisons whose binding reads the column's type and the literal's kind only. */
const LITERAL_BLIND_OPERATORS: ReadonlySet<string> = new Set(
  [
    'contains',
    'contains_cs',
    'has',
    'has_cs',
    'hasprefix',
    'hasprefix_cs',
    'hassuffix',
    'hassuffix_cs',
    'startswith',
    'startswith_cs',
    'endswith',
    'endswith_cs',
  ].flatMap((op) => [op, `!${op}`]),
)
const EQUALITY_OPERATORS: ReadonlySet<string> = new Set(['==', '!=', '=~', '!~'])
const LIST_OPERATORS: ReadonlySet<string> = new Set(['in', '!in', 'in~', '!in~', 'has_any', 'has_all'])

/** Copies of one shape a chain keeps: two, so the chain's operator is still bound. */
const COPIES_KEPT = 2

type GateNode =
  | { readonly token: GateToken }
  | { readonly open: GateToken; readonly items: readonly GateNode[]; readonly close: GateToken }

const isGroup = (n: GateNode): n is Extract<GateNode, { items: readonly GateNode[] }> => 'items' in n

/** The tokens as a tree of parenthesised groups; undefined when the parentheses do not balance. */
function tree(tokens: readonly GateToken[]): GateNode[] | undefined {
  const stack: { open?: GateToken; items: GateNode[] }[] = [{ items: [] }]
  for (const token of tokens) {
    const top = stack[stack.length - 1]
    if (!top) return undefined
    if (token.kind === 'open') stack.push({ open: token, items: [] })
    else if (token.kind === 'close') {
      const done = stack.pop()
      const parent = stack[stack.length - 1]
      if (!done?.open || !parent) return undefined
      parent.items.push({ open: done.open, items: done.items, close: token })
    } else top.items.push({ token })
  }
  const root = stack[0]
  return stack.length === 1 && root ? root.items : undefined
}

/** Split `items` at the top-level tokens of `kind`: operands, with the separator before each (none for the first). */
function split(items: readonly GateNode[], kind: 'or' | 'and'): { separator?: GateNode; operand: GateNode[] }[] {
  const parts: { separator?: GateNode; operand: GateNode[] }[] = [{ operand: [] }]
  for (const item of items) {
    if (!isGroup(item) && item.token.kind === kind) parts.push({ separator: item, operand: [] })
    else parts[parts.length - 1]?.operand.push(item)
  }
  return parts
}

/** The operand's shape with its literals masked, or undefined when the operand may not be dropped. */
function shape(operand: readonly GateNode[]): string | undefined {
  const [a, b, c, ...rest] = operand
  if (rest.length > 0) return undefined
  if (a && !b && isGroup(a)) return chainShape(a.items)
  if (!a || !b || !c || isGroup(a) || isGroup(b) || a.token.kind !== 'identifier') return undefined
  if (b.token.kind === 'string' || b.token.kind === 'identifier') return undefined
  const op = b.token.text
  if (!isGroup(c)) {
    if (c.token.kind !== 'string') return undefined
    return LITERAL_BLIND_OPERATORS.has(op) || EQUALITY_OPERATORS.has(op) ? `${a.token.text} ${op} S` : undefined
  }
  if (!isListOperator(b.token)) return undefined
  const list = split(c.items, 'or').length === 1 ? c.items : []
  const literalList =
    list.length > 0 &&
    list.every((n, i) => !isGroup(n) && (i % 2 === 0 ? n.token.kind === 'string' : n.token.kind === 'comma')) &&
    list.length % 2 === 1
  return literalList ? `${a.token.text} ${op} (${(list.length + 1) / 2 > 1 ? 'S, S' : 'S'})` : undefined
}

/** The shape of a parenthesised chain whose every operand may be dropped, else undefined. */
function chainShape(items: readonly GateNode[]): string | undefined {
  const shapes: string[] = []
  for (const { separator, operand } of split(items, 'or')) {
    const ands: string[] = []
    for (const part of split(operand, 'and')) {
      const s = shape(part.operand)
      if (s === undefined) return undefined
      ands.push(s)
    }
    shapes.push((separator ? 'or ' : '') + ands.join(' and '))
  }
  return `(${shapes.join(' ')})`
}

/** `items` with repeated operands dropped from each chain, recursively; groups are reduced first. */
function reduce(items: readonly GateNode[]): GateNode[] {
  const inner = items.map((n, i) => {
    if (!isGroup(n)) return n
    const before = items[i - 1]
    const listOperand = before !== undefined && !isGroup(before) && isListOperator(before.token)
    return { open: n.open, items: listOperand ? listTrimmed(n.items) : reduce(n.items), close: n.close }
  })
  return dedupe(inner, 'or').flat()
}

const isListOperator = (t: GateToken): boolean =>
  t.kind !== 'string' && t.kind !== 'identifier' && LIST_OPERATORS.has(t.text)

/**
 * The list after `in`/`has_any`…, when it is string literals only, keeps its first two: the binder
 * checks each element against the column the same way. Function arguments are never trimmed.
 */
function listTrimmed(items: readonly GateNode[]): readonly GateNode[] {
  const literals = items.every((n, i) =>
    isGroup(n) ? false : i % 2 === 0 ? n.token.kind === 'string' : n.token.kind === 'comma',
  )
  const keep = 2 * COPIES_KEPT - 1
  return literals && items.length > keep ? items.slice(0, keep) : items
}

/** The chain split at `kind`, with operands of a shape already kept twice dropped (separator included). */
function dedupe(items: readonly GateNode[], kind: 'or' | 'and'): GateNode[][] {
  const seen = new Map<string, number>()
  const kept: GateNode[][] = []
  for (const { separator, operand } of split(items, kind)) {
    const body = kind === 'or' ? dedupe(operand, 'and').flat() : operand
    const s = shape(body)
    const copies = s === undefined ? 0 : (seen.get(s) ?? 0)
    if (s !== undefined && copies >= COPIES_KEPT && separator) continue
    if (s !== undefined) seen.set(s, copies + 1)
    kept.push(separator ? [separator, ...body] : body)
  }
  return kept
}

function text(nodes: readonly GateNode[]): string {
  let out = ''
  for (const n of nodes) {
    if (isGroup(n)) out += n.open.trivia + n.open.text + text(n.items) + n.close.trivia + n.close.text
    else out += n.token.trivia + n.token.text
  }
  return out
}

/**
 * The query with repeated terms dropped, or undefined when nothing can be dropped (or the
 * parentheses do not balance). `tokens` must be the lexer's whole output, end token included.
 */
export function reducedQuery(tokens: readonly GateToken[]): string | undefined {
  const nodes = tree(tokens)
  if (!nodes) return undefined
  const reduced = text(reduce(nodes))
  return reduced.length < tokens.reduce((n, t) => n + t.trivia.length + t.text.length, 0) ? reduced : undefined
}
