/** eql correlations: not compiled yet; every correlation is refused with the reason. */
import type { CorrelationTarget } from './targets.js'
import { refuse } from './targets.js'

export const target: CorrelationTarget = {
  id: 'eql',
  async compile(rc) {
    return refuse(rc, 'eql', 'target/unsupported-correlation', 'correlation rules are not compiled for eql yet')
  },
  async verify() {
    return { diagnostics: [{ code: 'verify/unsupported', severity: 'error', message: 'eql: no correlation verifier' }] }
  },
}
