/**
 * Adversarial event streams for correlations: events placed around each threshold (n-1, n, n+1
 * occurrences or distinct values) and each window edge (last event at timespan - 1 s, exactly
 * timespan, timespan + 1 s), in several groups, with repeated values, shuffled members and equal
 * times, plus seeded random streams. Every stream is whole seconds (osquery's resolution).
 */
import type { JsonEvent } from '../../src/rule/rule.js'

export interface StreamSpec {
  /** An event the referenced rule `member` selects, in `group`, carrying `value`, at `ms`. */
  readonly make: (member: number, group: string, value: string, ms: number) => JsonEvent
  readonly members: number
  readonly spanMs: number
  /** The count the condition turns on (n of `gte: n`). */
  readonly threshold: number
  readonly seed?: number
}

const T0 = Date.UTC(2026, 10, 30, 2, 14, 0)

function rng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

export function edgeStreams(spec: StreamSpec): { name: string; events: JsonEvent[] }[] {
  const { make, members, spanMs, threshold } = spec
  const out: { name: string; events: JsonEvent[] }[] = []
  const counts = [...new Set([Math.max(1, threshold - 1), threshold, threshold + 1])]
  for (const n of counts)
    for (const lastAt of [spanMs - 1000, spanMs, spanMs + 1000]) {
      // n events, the first at T0, the last at T0 + lastAt, the rest evenly between; members in turn.
      const ts = Array.from({ length: n }, (_, i) =>
        n === 1 ? T0 : T0 + Math.round((lastAt * i) / (n - 1) / 1000) * 1000,
      )
      const evs = ts.map((t, i) => make(i % members, 'WS1', `v${i}`, t))
      out.push({ name: `${n} events, last at +${lastAt / 1000}s`, events: evs })
      // The same with every value repeated once (distinct counts stay, event counts double).
      out.push({
        name: `${n} events twice, last at +${lastAt / 1000}s`,
        events: [...evs, ...evs.map((e) => ({ ...e }))],
      })
      // Members in reverse order (ordered temporal must not fire), same times.
      out.push({
        name: `${n} events reversed, last at +${lastAt / 1000}s`,
        events: evs.map((_, i) => make((members - 1 - (i % members)) % members, 'WS1', `v${i}`, ts[i]!)),
      })
      // Two groups, split: neither group reaches n if n > 1.
      out.push({
        name: `${n} events over two hosts, last at +${lastAt / 1000}s`,
        events: evs.map((_, i) => make(i % members, i % 2 ? 'WS2' : 'WS1', `v${i}`, ts[i]!)),
      })
    }
  // All at one instant (ordered temporal never fires; counts do).
  out.push({
    name: `${threshold + members} events at one instant`,
    events: Array.from({ length: threshold + members }, (_, i) => make(i % members, 'WS1', `v${i}`, T0)),
  })
  const random = rng(spec.seed ?? 1)
  for (let k = 0; k < 6; k++) {
    const evs: JsonEvent[] = []
    const len = 2 + Math.floor(random() * (threshold + 4))
    for (let i = 0; i < len; i++) {
      const t = T0 + Math.floor(random() * ((spanMs * 2) / 1000 + 2)) * 1000
      evs.push(make(Math.floor(random() * members), random() < 0.7 ? 'WS1' : 'WS2', `v${Math.floor(random() * 4)}`, t))
    }
    out.push({ name: `random ${k}`, events: evs })
  }
  return out
}
