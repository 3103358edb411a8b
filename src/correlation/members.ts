/**
 * What the correlation compilers share: each referenced rule compiled by the target's own backend
 * (the correlation's query is built on those queries), a rule the backend refuses refusing the
 * correlation with the backend's reason; and the timespan as the query languages write it.
 */
import { loadBackend } from '../backends/index.js'
import type { Compiled, TargetId, TargetOptions } from '../backends/types.js'
import type { Rule } from '../rule/rule.js'
import type { ResolvedCorrelation } from './resolve.js'
import { refuse } from './targets.js'

export interface CompiledMember {
  readonly rule: Rule
  /** The backend's query for the rule alone, trimmed. */
  readonly query: string
}

/**
 * The referenced rules with their queries, in the correlation's order, or the refusal. Callers
 * refuse correlations of correlations first (every member is a rule here).
 */
export async function compileMembers(
  rc: ResolvedCorrelation,
  target: TargetId,
  options?: TargetOptions,
): Promise<{ readonly members: readonly CompiledMember[] } | { readonly refused: Compiled }> {
  const backend = await loadBackend(target)
  const members: CompiledMember[] = []
  for (const m of rc.members) {
    if (m.kind !== 'rule') throw new Error('compileMembers: a correlation of correlations is refused before')
    const compiled = backend.compile(m.rule, options)
    if (compiled.query === undefined) {
      const why = compiled.diagnostics.find((d) => d.severity === 'error')
      return {
        refused: refuse(
          rc,
          target,
          'target/unsupported-correlation-rule',
          `referenced rule ${m.rule.id ?? m.rule.title} is refused: ${why?.message ?? 'no query'}`,
        ),
      }
    }
    members.push({ rule: m.rule, query: compiled.query.trim() })
  }
  return { members }
}

/** A timespan of whole seconds as SPL and KQL write one: 5m, 90s, 2h, 1d. */
export function spanText(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`
  if (seconds % 3600 === 0) return `${seconds / 3600}h`
  if (seconds % 60 === 0) return `${seconds / 60}m`
  return `${seconds}s`
}
