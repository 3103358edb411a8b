/**
 * What a backend provides: Rule → query text, a pure function. Its checker, the target's verifier
 * (src/verify/types.ts), shares nothing with it: it reads only the emitted text.
 */
import type { Diagnostic } from '../diagnostics.js'
import type { Rule } from '../rule/rule.js'

export type { TargetId, TargetOptions } from '../target-ids.js'
export { TARGET_IDS } from '../target-ids.js'
import type { TargetId, TargetOptions } from '../target-ids.js'

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
