/**
 * The library behind `rulesmith verify`: any query text (hand-edited, or from another converter)
 * checked against a rule, event by event: the reference on the rule, the target's verifier on the
 * text. The events are the caller's, or the rule's tests-file events plus adversarial events
 * generated from the rule (its own log source and its neighbours).
 */
import { existsSync } from 'node:fs'
import type { Diagnostic } from '../diagnostics.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import type { TargetId, TargetOptions } from '../target-ids.js'
import { loadVerifier } from '../verify/index.js'
import { adversarialEvents } from './adversarial.js'
import { checkQuery, type Equivalence } from './equivalence.js'
import { readSampleTests, testsFileFor } from './sample-tests.js'

/** An event and where it came from, for messages: `events.jsonl:3`, `tests file: 'sc stop'`, `generated #12`. */
export interface SourcedEvent {
  readonly event: JsonEvent
  readonly from: string
}

/** How many adversarial events `rulesmith verify` generates per rule (its own log source; neighbours come on top). */
export const GENERATED_EVENTS = 120

/** The rule's tests-file events (when it has a tests file) and generated adversarial events. */
export function eventsForRule(
  rule: Rule,
  count = GENERATED_EVENTS,
): { events: SourcedEvent[]; diagnostics: Diagnostic[] } {
  const file = testsFileFor(rule.file)
  const diagnostics: Diagnostic[] = []
  const samples: SourcedEvent[] = []
  if (existsSync(file)) {
    const read = readSampleTests(file)
    diagnostics.push(...read.diagnostics)
    for (const s of read.tests?.events ?? []) samples.push({ event: s.event, from: `${file}: '${s.name}'` })
  }
  const generated = adversarialEvents(
    rule.detection,
    count,
    1489,
    rule.logsource,
    samples.map((s) => s.event),
  ).map((event, i) => ({ event, from: `generated #${i}` }))
  return { events: [...samples, ...generated], diagnostics }
}

export interface QueryVerdict extends Equivalence {
  readonly events: readonly SourcedEvent[]
  /** True when the verifier ran the text and it agrees with the rule on every comparable event. */
  readonly agrees: boolean
}

/** Check `query` (text of `target`) against the rule on the events. */
export async function verifyQuery(
  rule: Rule,
  target: TargetId,
  query: string,
  events: readonly SourcedEvent[],
  options: TargetOptions = {},
): Promise<QueryVerdict> {
  const verifier = await loadVerifier(target)
  const r = await checkQuery(
    rule,
    query,
    events.map((e) => e.event),
    verifier,
    options,
  )
  const ran =
    r.actual !== undefined && !r.diagnostics.some((d) => d.severity === 'error' && d.code !== 'verify/mismatch')
  return { ...r, events, agrees: ran && r.mismatches.length === 0 }
}
