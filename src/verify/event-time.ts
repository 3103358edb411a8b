/**
 * When a target recorded an event, as the correlation verifiers read it: the record's own time —
 * Sysmon's UtcTime, the Windows event log's TimeCreated, else the collector's @timestamp — the
 * first of those the event holds. It becomes Defender's Timestamp, Splunk's _time and osquery's
 * time. Text is read by src/timestamp.ts (ISO 8601, to the millisecond; UtcTime may omit the zone).
 */
import type { JsonEvent } from '../rule/rule.js'
import { readTime } from '../timestamp.js'

const TIME_FIELDS = ['UtcTime', 'TimeCreated', '@timestamp'] as const

/** Milliseconds since the epoch, or undefined when the event holds no readable time. */
export function recordTime(event: JsonEvent): number | undefined {
  const field = TIME_FIELDS.find((f) => event[f] !== undefined)
  if (field === undefined) return undefined
  const t = readTime(event[field], { zoneless: field === 'UtcTime' })
  return 'ms' in t ? t.ms : undefined
}
