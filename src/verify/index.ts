/**
 * The verifier registry. Verifiers are imported on first use, so a command that never verifies
 * does not load the KQL parser or SQLite. Backends never import this module: the proof reads the
 * emitted text, not the code that wrote it.
 */
import type { TargetId, Verifier } from '../backends/types.js'

// Literal import() paths, one per target: bundlers and vitest resolve them, and each stays lazy.
const VERIFIERS: Record<TargetId, () => Promise<{ verifier: Verifier }>> = {
  spl: () => import('./spl.js'),
  kql: () => import('./kql.js'),
  eql: () => import('./eql.js'),
  osquery: () => import('./osquery.js'),
}

const verifiers = new Map<TargetId, Verifier>()

export async function loadVerifier(id: TargetId): Promise<Verifier> {
  let v = verifiers.get(id)
  if (!v) {
    v = (await VERIFIERS[id]()).verifier
    verifiers.set(id, v)
  }
  return v
}
