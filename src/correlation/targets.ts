/**
 * What a target provides for correlations: a compiler (a resolved correlation → one query, built
 * on the target's own compile of each referenced rule) and a verifier (query text + events → the
 * groups that fire). The verifier reads only the text and the events, like the rule verifiers.
 * Loaded lazily, one module per target.
 */
import type { Compiled, TargetId, TargetOptions } from '../backends/types.js'
import type { Diagnostic, DiagnosticCode } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { ResolvedCorrelation } from './resolve.js'

export interface FiringGroup {
  /** Group-by name → value as text (what `match` prints). */
  readonly group: Readonly<Record<string, string>>
}

export interface CorrelationVerified {
  /** The groups that fire, sorted; absent when the text could not be read or run. */
  readonly groups?: readonly FiringGroup[]
  /** Events no record of the target can be as written (e.g. a time below its resolution). */
  readonly unrepresentable?: readonly number[]
  readonly diagnostics: readonly Diagnostic[]
}

export interface CorrelationTarget {
  readonly id: TargetId
  compile(rc: ResolvedCorrelation, options?: TargetOptions): Promise<Compiled>
  verify(query: string, events: readonly JsonEvent[], options?: TargetOptions): Promise<CorrelationVerified>
}

const TARGETS: Record<TargetId, () => Promise<{ target: CorrelationTarget }>> = {
  spl: () => import('./spl.js'),
  kql: () => import('./kql.js'),
  eql: () => import('./eql.js'),
  osquery: () => import('./osquery.js'),
}

const loaded = new Map<TargetId, CorrelationTarget>()

export async function correlationTarget(id: TargetId): Promise<CorrelationTarget> {
  let t = loaded.get(id)
  if (!t) loaded.set(id, (t = (await TARGETS[id]()).target))
  return t
}

/** A refusal: the construct in the code, the reason in the message, positioned at the correlation. */
export function refuse(rc: ResolvedCorrelation, target: TargetId, code: DiagnosticCode, message: string): Compiled {
  return {
    diagnostics: [
      {
        code,
        severity: 'error',
        message: `${target}: ${message}`,
        file: rc.correlation.file,
        at: rc.correlation.at,
        target,
      },
    ],
  }
}
