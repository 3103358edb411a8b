/**
 * What every target provides: a backend (Rule → query text, a pure function) and a verifier
 * (query text → which events it selects). The two share nothing but the target's event mapping:
 * the verifier reads only the emitted text, so it catches a backend that lies.
 */
import type { Diagnostic } from '../diagnostics.js'
import type { JsonEvent, Rule } from '../rule/rule.js'

export type TargetId = 'spl' | 'kql' | 'eql' | 'osquery'
export const TARGET_IDS: readonly TargetId[] = ['spl', 'kql', 'eql', 'osquery']

export interface TargetOptions {
  /** A user's YAML file that adds log sources or overrides field names (`--pipeline FILE`). */
  readonly pipeline?: string
  /** A target-specific variant, e.g. KQL's schema family `defender` | `sentinel`. */
  readonly variant?: string
}

export interface Compiled {
  /** The query; absent when the rule was refused (then `diagnostics` says why, with an error). */
  readonly query?: string
  readonly diagnostics: readonly Diagnostic[]
  /** Target facts the formats may use (table, index, event category, platform …). */
  readonly context?: Readonly<Record<string, unknown>>
}

export interface Backend {
  readonly id: TargetId
  compile(rule: Rule, options?: TargetOptions): Compiled
}

export interface Verified {
  /** One answer per event, in order; absent when the text could not be parsed or run. */
  readonly matches?: readonly boolean[]
  /**
   * Indexes of events the target's schema cannot hold as they are (text in an integer column, an
   * array where a column holds one scalar …): no real record looks like them, so their answer in
   * `matches` proves nothing and equivalence checks leave them out (and count them).
   */
  readonly unrepresentable?: readonly number[]
  readonly diagnostics: readonly Diagnostic[]
}

export interface Verifier {
  readonly id: TargetId
  /**
   * Parse the emitted `query` back and evaluate it on Sigma-taxonomy events, each first mapped into
   * the target's schema for the rule's log source (the same mapping the backend used).
   */
  verify(query: string, rule: Rule, events: readonly JsonEvent[], options?: TargetOptions): Promise<Verified>
}
