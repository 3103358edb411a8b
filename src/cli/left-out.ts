/**
 * How many rule × event checks a target's verifier left out, and why (src/verify/types.ts,
 * `leftOut`): `match --target` and `test` print it on stderr, so an event the target cannot hold
 * (or holds in another table than the query reads) is never silently "no match". Stdout stays the
 * machine-readable matches.
 */
import type { LeftOut } from '../verify/types.js'

export class LeftOutCount {
  private checks = 0
  private readonly reasons = new Map<string, number>()

  /** One verification: its left-out events out of `events` checks. */
  add(leftOut: readonly LeftOut[], events: number): void {
    this.checks += events
    for (const l of leftOut) this.reasons.set(l.reason, (this.reasons.get(l.reason) ?? 0) + 1)
  }

  get total(): number {
    let n = 0
    for (const c of this.reasons.values()) n += c
    return n
  }

  /** `<prefix>: N of M rule × event checks left out:` and one line per reason (most first); '' when none. */
  summary(prefix: string): string {
    const total = this.total
    if (total === 0) return ''
    const lines = [...this.reasons]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .map(([reason, n]) => `  ${n} ${reason}\n`)
    return `${prefix}: ${total} of ${this.checks} rule × event checks left out (events the query does not read, or no record of the target holds):\n${lines.join('')}`
  }
}
