/**
 * The proof: for each event, the reference evaluator's answer on the rule must equal the target
 * verifier's answer on the emitted text. A difference is a `verify/mismatch` error.
 */
import type { Diagnostic } from '../diagnostics.js'
import { evaluate } from '../evaluate/evaluate.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import type { Backend, TargetOptions, Verifier } from '../backends/types.js'

export interface Equivalence {
  /** The emitted query; absent when the backend refused the rule. */
  readonly query?: string
  readonly expected: readonly boolean[]
  readonly actual?: readonly boolean[]
  /** Indexes of events where the two disagree. */
  readonly mismatches: readonly number[]
  /** Indexes of events the target's schema cannot hold; not compared. */
  readonly unrepresentable: readonly number[]
  readonly diagnostics: readonly Diagnostic[]
}

export async function checkEquivalence(
  rule: Rule,
  events: readonly JsonEvent[],
  backend: Backend,
  verifier: Verifier,
  options?: TargetOptions,
): Promise<Equivalence> {
  const expected = events.map((e) => evaluate(rule.detection, e))
  const compiled = backend.compile(rule, options)
  if (compiled.query === undefined)
    return { expected, mismatches: [], unrepresentable: [], diagnostics: compiled.diagnostics }
  const verified = await verifier.verify(compiled.query, rule, events, options)
  const diagnostics = [...compiled.diagnostics, ...verified.diagnostics]
  const unrepresentable = verified.unrepresentable ?? []
  if (!verified.matches) return { query: compiled.query, expected, mismatches: [], unrepresentable, diagnostics }
  const actual = verified.matches
  const skip = new Set(unrepresentable)
  const mismatches = expected.flatMap((want, i) => (skip.has(i) || actual[i] === want ? [] : [i]))
  for (const i of mismatches) {
    diagnostics.push({
      code: 'verify/mismatch',
      severity: 'error',
      target: backend.id,
      file: rule.file,
      at: rule.at,
      message: `${backend.id}: event ${i} ${expected[i] ? 'matches the rule but not the query' : 'matches the query but not the rule'}: ${JSON.stringify(events[i])}`,
    })
  }
  return { query: compiled.query, expected, actual, mismatches, unrepresentable, diagnostics }
}
