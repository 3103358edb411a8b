/**
 * The proof: for each event, the reference evaluator's answer on the rule must equal the target
 * verifier's answer on the query text. A difference is a `verify/mismatch` error. Events that state
 * no origin are taken to come from the rule's log source (src/origin.ts); the verifier gets the
 * text and the events, never the rule.
 */
import type { Diagnostic } from '../diagnostics.js'
import { evaluateRule } from '../evaluate/evaluate.js'
import { withOrigin } from '../origin.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import type { Backend } from '../backends/types.js'
import type { TargetId, TargetOptions } from '../target-ids.js'
import type { Verified, Verifier } from '../verify/types.js'

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
  const compiled = backend.compile(rule, options)
  if (compiled.query === undefined) {
    const expected = withOrigin(events, rule.logsource).map((e) => evaluateRule(rule, e))
    return { expected, mismatches: [], unrepresentable: [], diagnostics: compiled.diagnostics }
  }
  const checked = await checkQuery(rule, compiled.query, events, verifier, options)
  return { ...checked, diagnostics: [...compiled.diagnostics, ...checked.diagnostics] }
}

/**
 * The proof of any query text against the rule (what `rulesmith verify` runs): the reference on
 * the rule, the verifier on the text, event by event.
 */
export async function checkQuery(
  rule: Rule,
  query: string,
  events: readonly JsonEvent[],
  verifier: Verifier,
  options?: TargetOptions,
): Promise<Equivalence> {
  const placed = withOrigin(events, rule.logsource)
  const expected = placed.map((e) => evaluateRule(rule, e))
  const verified = await verifier.verify(query, placed, options)
  const diagnostics = located(verified, rule, verifier.id)
  const unrepresentable = verified.unrepresentable ?? []
  if (!verified.matches) return { query, expected, mismatches: [], unrepresentable, diagnostics }
  const actual = verified.matches
  const skip = new Set(unrepresentable)
  const mismatches = expected.flatMap((want, i) => (skip.has(i) || actual[i] === want ? [] : [i]))
  for (const i of mismatches) {
    diagnostics.push({
      code: 'verify/mismatch',
      severity: 'error',
      target: verifier.id,
      file: rule.file,
      at: rule.at,
      message: `${verifier.id}: event ${i} ${expected[i] ? 'matches the rule but not the query' : 'matches the query but not the rule'}: ${JSON.stringify(events[i])}`,
    })
  }
  return { query, expected, actual, mismatches, unrepresentable, diagnostics }
}

/** The verifier's diagnostics, placed at the rule (a verifier knows no file). */
export function located(verified: Verified, rule: Rule, target: TargetId): Diagnostic[] {
  return verified.diagnostics.map((d) => ({
    ...d,
    target: d.target ?? target,
    file: d.file ?? rule.file,
    at: d.at ?? rule.at,
  }))
}
