/**
 * Balanced joins: a long AND/OR run written as nested groups, for parsers that refuse deep or long
 * flat chains. Both operators are associative, so the groups select what the flat run selects.
 */

/**
 * Groups of `size` operands, parenthesised, then groups of those groups: Microsoft's KQL parser
 * refuses a flat chain of a few hundred `or`s ("KS245 Query syntax depth exceeds maximum safe
 * limit"), and a run of at most 64 reads as before.
 */
export function joinInGroups(parts: readonly string[], op: string, size: number): string {
  if (parts.length <= size) return parts.join(op)
  const chunks: string[] = []
  for (let i = 0; i < parts.length; i += size) chunks.push(`(${parts.slice(i, i + size).join(op)})`)
  return joinInGroups(chunks, op, size)
}

/**
 * Parenthesised halves, recursively, once a run is longer than `max`: SQLite parses `a OR b OR …`
 * into a left-deep tree and rejects expressions deeper than 1000 ("Expression tree is too large",
 * SQLITE_MAX_EXPR_DEPTH, https://sqlite.org/limits.html); halves keep the depth near log2 of the run.
 */
export function joinInHalves(parts: readonly string[], op: string, max: number): string {
  if (parts.length <= max) return parts.join(op)
  const mid = parts.length >> 1
  return `(${joinInHalves(parts.slice(0, mid), op, max)})${op}(${joinInHalves(parts.slice(mid), op, max)})`
}
