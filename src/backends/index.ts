/**
 * The backend registry. Backends are imported on first use, so `validate` of one rule does not pay
 * for targets it never touches. (Verifiers have their own registry, src/verify/index.ts: backends
 * never import verifiers, nor verifiers backends.)
 */
import type { Backend, TargetId } from './types.js'
import { TARGET_IDS, isTargetId } from '../target-ids.js'

export { TARGET_IDS, isTargetId }

// Literal import() paths, one per target: bundlers and vitest resolve them, and each stays lazy.
const BACKENDS: Record<TargetId, () => Promise<{ backend: Backend }>> = {
  spl: () => import('./spl.js'),
  kql: () => import('./kql.js'),
  eql: () => import('./eql.js'),
  osquery: () => import('./osquery.js'),
}

const backends = new Map<TargetId, Backend>()

export async function loadBackend(id: TargetId): Promise<Backend> {
  let b = backends.get(id)
  if (!b) {
    b = (await BACKENDS[id]()).backend
    backends.set(id, b)
  }
  return b
}
