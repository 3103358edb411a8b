/**
 * The verifier registry. Each verifier is imported on first use (the KQL parser and SQLite are
 * heavy). Verifiers import nothing from src/backends: the proof harness (src/proof) is the only
 * place that holds both a backend and a verifier.
 */
import type { TargetId } from '../target-ids.js'
import type { Verifier } from './types.js'

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
