/** spl correlations: not compiled yet; every correlation is refused with the reason. */
import type { CorrelationTarget } from './targets.js'
import { refuse } from './targets.js'

export const target: CorrelationTarget = {
  id: 'spl',
  async compile(rc) {
    return refuse(rc, 'spl', 'target/unsupported-correlation', 'correlation rules are not compiled for spl yet')
  },
  async verify() {
    return { diagnostics: [{ code: 'verify/unsupported', severity: 'error', message: 'spl: no correlation verifier' }] }
  },
}
