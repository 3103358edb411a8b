/**
 * Which field of an event holds its time, per log source, and how that text is read. Sigma's
 * taxonomy names no timestamp field, so this table is rulesmith's choice (docs/semantics.md,
 * "Event time"); each target's verifier maps the same field into its own time column.
 */
import type { LogSource } from '../rule/rule.js'
import { getField } from '../evaluate/field.js'
import { readTime } from '../timestamp.js'
import type { JsonEvent } from '../rule/rule.js'

export interface TimeField {
  /** The Sigma-side field holding the event's time. */
  readonly field: string
  /** Whether text without a zone is UTC (Sysmon's UtcTime says so in its name); otherwise a zone is required. */
  readonly zoneless: boolean
  readonly why: string
}

const SYSMON: TimeField = { field: 'UtcTime', zoneless: true, why: "Sysmon's UtcTime (every Sysmon event)" }
const EVENTLOG: TimeField = {
  field: 'TimeCreated',
  zoneless: false,
  why: "the Windows event's System/TimeCreated/@SystemTime",
}
const GENERIC: TimeField = { field: '@timestamp', zoneless: false, why: 'the collector time (ECS @timestamp)' }

/** The time field of a rule's log source: Sysmon categories, Windows service logs, everything else. */
export function timeFieldOf(logsource: LogSource): TimeField {
  const product = logsource.product?.toLowerCase()
  if (product === 'windows') return logsource.service !== undefined ? EVENTLOG : SYSMON
  if (product === 'linux' && logsource.category !== undefined) return SYSMON
  return GENERIC
}

/** The host field of every log source: the name of the computer that recorded the event. */
export const HOST_FIELD = 'Computer'

export function eventTime(event: JsonEvent, logsource: LogSource): { ms: number } | { reason: string; field: string } {
  const tf = timeFieldOf(logsource)
  const r = readTime(getField(event, tf.field), tf)
  return 'ms' in r ? r : { reason: `${tf.field}: ${r.reason}`, field: tf.field }
}

export { isoTime, readTime } from '../timestamp.js'
