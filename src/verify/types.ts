/**
 * What a verifier is: query text and events in, one answer per event out. It is given no rule and
 * no backend data: it reads only the text, and places each event where its own model of the
 * target says an event of that origin lands (src/verify/*-landing.ts), so a backend that pins the
 * wrong table, source or category is caught.
 */
import type { Diagnostic } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetId, TargetOptions } from '../target-ids.js'

export interface Verified {
  /** One answer per event, in order; absent when the text could not be parsed or run. */
  readonly matches?: readonly boolean[]
  /**
   * Indexes of events the target's schema cannot hold as they are (text in an integer column, an
   * array where a column holds one scalar …): no real record looks like them, so their answer in
   * `matches` proves nothing and equivalence checks leave them out (and count them).
   */
  readonly unrepresentable?: readonly number[]
  /**
   * Events the query does not judge, each with its reason: an event that lands in no table, index
   * or source of the target, or in another one than the query reads, and every unrepresentable
   * event. The reason names the cause and not the event (the same cause, the same text), so a
   * caller can count them (`match` and `test` print how many were left out and why).
   */
  readonly leftOut?: readonly LeftOut[]
  /** Problems with the text or the events; they name no file (the caller knows where the text came from). */
  readonly diagnostics: readonly Diagnostic[]
}

export interface LeftOut {
  readonly index: number
  readonly reason: string
}

export interface Verifier {
  readonly id: TargetId
  /**
   * Parse `query` and evaluate it on the events. Each event is placed in the target by its stated
   * origin (src/origin.ts); an event that states none lands nowhere and is selected by no query.
   */
  verify(query: string, events: readonly JsonEvent[], options?: TargetOptions): Promise<Verified>
}
