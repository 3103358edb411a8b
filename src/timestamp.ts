/**
 * Event time as text or a number, read to milliseconds since the epoch. Shared, like src/origin.ts,
 * by the reference (src/correlation/event-time.ts decides which field holds the time) and by the
 * correlation verifiers (each decides which of an event's fields its target takes the time from):
 * it reads a statement in the input, it holds no semantics of a target or of Sigma.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/

/**
 * Milliseconds since the epoch, or a reason the value is not a time. Accepted: ISO 8601 text with
 * `Z` or an offset (`2026-01-02T03:04:05.678Z`); without a zone only where the field is UTC by
 * definition; a number of seconds since the epoch. Digits below the millisecond must be zero: the
 * reference compares milliseconds and would otherwise round silently.
 */
export function readTime(value: unknown, tf: { readonly zoneless: boolean }): { ms: number } | { reason: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { reason: `${value} is not a time` }
    const ms = value * 1000
    if (!Number.isInteger(Math.round(ms * 1000) / 1000) || Math.abs(ms - Math.round(ms)) > 1e-6)
      return { reason: `${value} has digits below the millisecond` }
    return { ms: Math.round(ms) }
  }
  if (typeof value !== 'string') return { reason: 'the field is absent or not text' }
  const m = ISO.exec(value)
  if (!m) return { reason: `'${value}' is not ISO 8601 time (2026-01-02T03:04:05.678Z)` }
  const [, y, mo, d, h, mi, s, frac = '', zone] = m
  if (zone === undefined && !tf.zoneless) return { reason: `'${value}' has no time zone (add Z or +hh:mm)` }
  if (/[1-9]/.test(frac.slice(3))) return { reason: `'${value}' has digits below the millisecond` }
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  const check = new Date(base)
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  )
    return { reason: `'${value}' is not a calendar time` }
  let ms = base + Number((frac + '000').slice(0, 3))
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000
  }
  return { ms }
}

/** ISO 8601 UTC with milliseconds, the form every formatter and generator writes. */
export const isoTime = (ms: number): string => new Date(ms).toISOString()
