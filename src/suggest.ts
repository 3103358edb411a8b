/**
 * "Did you mean": the known name closest to one that is not known, for usage errors, config
 * errors and anything else where a near miss deserves its fix.
 */
import { must } from './guards.js'

/** Levenshtein distance, stopping early once it exceeds `max`. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(cell(prev, j) + 1, cell(row, j - 1) + 1, cell(prev, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1))
      row.push(v)
      best = Math.min(best, v)
    }
    if (best > max) return max + 1
    prev = row
  }
  return cell(prev, b.length)
}

const cell = (row: readonly number[], j: number): number => must(row[j], 'a cell inside the distance table')

/**
 * The candidate `input` most likely means: the same name in another case, a name it starts or
 * that starts it (3+ characters), or the closest within a third of its length (at least 1).
 */
export function nearest(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase()
  const same = candidates.find((c) => c.toLowerCase() === lower)
  if (same) return same
  if (lower.length >= 3) {
    const prefix = candidates.find((c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase()))
    if (prefix) return prefix
  }
  const max = Math.max(1, Math.floor(lower.length / 3))
  let best: string | undefined
  let bestDistance = max + 1
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase(), max)
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best
}

/** ` (did you mean 'x'?)`, or nothing when no candidate is near. */
export function didYouMean(input: string, candidates: readonly string[], aliases: Record<string, string> = {}): string {
  const alias = aliases[input.toLowerCase()]
  const guess = alias ?? nearest(input, candidates)
  return guess === undefined ? '' : ` (did you mean '${guess}'?)`
}

/** What a product or language name people type stands for: a target, maybe a variant or format. */
export interface TargetAlias {
  readonly target: string
  readonly variant?: string
  readonly format?: string
}

export const TARGET_ALIASES: Readonly<Record<string, TargetAlias>> = {
  splunk: { target: 'spl' },
  microsoft: { target: 'kql' },
  kusto: { target: 'kql' },
  defender: { target: 'kql', variant: 'defender' },
  mde: { target: 'kql', variant: 'defender' },
  sentinel: { target: 'kql', variant: 'sentinel' },
  azure: { target: 'kql', variant: 'sentinel' },
  elastic: { target: 'eql' },
  elasticsearch: { target: 'eql' },
  kibana: { target: 'eql', format: 'elastic' },
  ecs: { target: 'eql' },
  sql: { target: 'osquery' },
  sqlite: { target: 'osquery' },
  fleet: { target: 'osquery', format: 'fleet' },
}

/** The aliases as command-line suggestions: `sentinel` → `kql --variant sentinel`. */
export const targetAliasesAsFlags = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(TARGET_ALIASES).map(([k, a]) => [
      k,
      [
        a.target,
        a.variant && a.variant !== 'defender' ? `--variant ${a.variant}` : '',
        a.format ? `--format ${a.format}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    ]),
  )
