/**
 * Where an event was logged: its origin. The proof needs it because the log-source half of a query
 * (SPL `source=… EventCode=…`, a KQL table and ActionType, an EQL event category, an osquery table)
 * is only tested when events come from more than one place.
 *
 * An event states its origin in one of two ways:
 * - raw Windows event-log fields, as every Windows event record has them: `Channel` (the event log,
 *   e.g. `System`, `Microsoft-Windows-Sysmon/Operational`), `EventID` and `Provider_Name`;
 * - the reserved key `_logsource`, a Sigma log source: `{"_logsource": {"product": "linux",
 *   "category": "process_creation"}}`. It is never a field: detections and keywords do not see it.
 * `_logsource` wins when both are present. An event that states neither is taken, by the proof
 * harness, to come from the rule's log source (`withOrigin`).
 *
 * This module only reads the statement. What an origin means is decided separately by the
 * reference (src/evaluate/logsource.ts: which origins a Sigma log source covers) and by each
 * verifier (src/verify/*-landing.ts: where such an event lands in the target).
 */
import type { JsonEvent, LogSource } from './rule/rule.js'

/** The reserved event key holding an explicit origin. */
export const ORIGIN_KEY = '_logsource'

export type Origin =
  | { readonly kind: 'winlog'; readonly channel: string; readonly eventId?: number; readonly provider?: string }
  | { readonly kind: 'logsource'; readonly logsource: LogSource }

const LOGSOURCE_KEYS = ['product', 'category', 'service'] as const

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A Windows event id from an event's `EventID` (a number, or its decimal text as some forwarders write it). */
export function eventIdOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v
  if (typeof v === 'string' && /^(0|[1-9]\d{0,9})$/.test(v)) return Number(v)
  return undefined
}

/** The origin an event states, or undefined when it states none. */
export function originOf(event: JsonEvent): Origin | undefined {
  const explicit = event[ORIGIN_KEY]
  if (isMap(explicit)) {
    const logsource: Record<string, string> = {}
    for (const k of LOGSOURCE_KEYS) if (typeof explicit[k] === 'string') logsource[k] = explicit[k] as string
    return { kind: 'logsource', logsource }
  }
  const channel = event['Channel']
  if (typeof channel === 'string' && channel !== '') {
    const eventId = eventIdOf(event['EventID'])
    const provider = event['Provider_Name']
    return {
      kind: 'winlog',
      channel,
      ...(eventId !== undefined ? { eventId } : {}),
      ...(typeof provider === 'string' ? { provider } : {}),
    }
  }
  return undefined
}

/** A Sigma log source as an origin statement (the `_logsource` value): product, category, service. */
export function logSourceStatement(logsource: LogSource): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of LOGSOURCE_KEYS) {
    const v = logsource[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

/**
 * Events as the proof runs them: each event that states no origin is given the rule's log source
 * (it is a sample of that log source). Events that state one keep it.
 */
export function withOrigin(events: readonly JsonEvent[], logsource: LogSource): JsonEvent[] {
  const stated = logSourceStatement(logsource)
  return events.map((e) => (originOf(e) ? e : { ...e, [ORIGIN_KEY]: stated }))
}

/** How an origin reads in messages: `Channel=System EventID=7036` or `product=linux category=process_creation`. */
export function describeOrigin(o: Origin | undefined): string {
  if (!o) return '(no origin stated)'
  if (o.kind === 'winlog')
    return `Channel=${o.channel}${o.eventId !== undefined ? ` EventID=${o.eventId}` : ''}${o.provider !== undefined ? ` Provider_Name=${o.provider}` : ''}`
  const parts = LOGSOURCE_KEYS.flatMap((k) => (o.logsource[k] ? [`${k}=${o.logsource[k]}`] : []))
  return parts.length ? parts.join(' ') : '(empty logsource)'
}
