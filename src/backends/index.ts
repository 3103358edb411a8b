/**
 * The backend registry. Backends are imported on first use, so `validate` of one rule does not pay
 * for targets it never touches. The verifiers have their own registry (src/verify/index.ts).
 */
import type { Backend, TargetId } from './types.js'
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

const backends = new Map<TargetId, Backend>()

export async function loadBackend(id: TargetId): Promise<Backend> {
  let b = backends.get(id)
  if (!b) {
    b = (await BACKENDS[id]()).backend
    backends.set(id, b)
  }
  return b
}
