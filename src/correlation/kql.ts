/** kql correlations: not compiled yet; every correlation is refused with the reason. */
import type { CorrelationTarget } from './targets.js'
import { refuse } from './targets.js'

export const target: CorrelationTarget = {
  id: 'kql',
  async compile(rc) {
    return refuse(rc, 'kql', 'target/unsupported-correlation', 'correlation rules are not compiled for kql yet')
  },
  async verify() {
    return { diagnostics: [{ code: 'verify/unsupported', severity: 'error', message: 'kql: no correlation verifier' }] }
  },
}
