/**
 * SPL correlations: not compiled yet, every type refused with the reason. `bin _time span=…` with
 * `stats` buckets time (a burst across a bucket edge is split: false negatives, docs/semantics.md
 * "Windows"), so an exact compile needs streamstats (count windows per group, `global=false`) and a
 * verifier that models it; neither exists yet.
 */
import type { CorrelationTarget } from './targets.js'
import { refuse } from './targets.js'

export const target: CorrelationTarget = {
  id: 'spl',
  async compile(rc) {
    return refuse(
      rc,
      'spl',
      'target/unsupported-correlation',
      'correlations are not compiled for SPL yet: bin/stats windows are fixed buckets that split a burst across a bucket edge, and the exact form (streamstats per group) is not built or verified yet',
    )
  },
  async verify() {
    return {
      diagnostics: [
        { code: 'verify/unsupported', severity: 'error', message: 'spl: correlations are refused, nothing to verify' },
      ],
    }
  },
}
