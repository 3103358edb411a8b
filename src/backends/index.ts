/**
 * The target registry. Backends and verifiers are imported on first use, so `validate` of one
 * rule does not pay for targets it never touches (nor the KQL parser, nor SQLite).
 */
import type { Backend, TargetId, Verifier } from './types.js'
import { TARGET_IDS } from './types.js'

export { TARGET_IDS }

export const isTargetId = (s: string): s is TargetId => (TARGET_IDS as readonly string[]).includes(s)

// Literal import() paths, one per target: bundlers and vitest resolve them, and each stays lazy.
const BACKENDS: Record<TargetId, () => Promise<{ backend: Backend }>> = {
  spl: () => import('./spl.js'),
  kql: () => import('./kql.js'),
  eql: () => import('./eql.js'),
  osquery: () => import('./osquery.js'),
}

const VERIFIERS: Record<TargetId, () => Promise<{ verifier: Verifier }>> = {
  spl: () => import('../verify/spl.js'),
  kql: () => import('../verify/kql.js'),
  eql: () => import('../verify/eql.js'),
  osquery: () => import('../verify/osquery.js'),
}

const backends = new Map<TargetId, Backend>()
const verifiers = new Map<TargetId, Verifier>()

export async function loadBackend(id: TargetId): Promise<Backend> {
  let b = backends.get(id)
  if (!b) {
    b = (await BACKENDS[id]()).backend
    backends.set(id, b)
  }
  return b
}

export async function loadVerifier(id: TargetId): Promise<Verifier> {
  let v = verifiers.get(id)
  if (!v) {
    v = (await VERIFIERS[id]()).verifier
    verifiers.set(id, v)
  }
  return v
}
