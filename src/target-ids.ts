/**
 * The targets' names and per-run options: the one vocabulary backends, verifiers and the proof
 * harness share (so that verifiers need import nothing from src/backends).
 */
export type TargetId = 'spl' | 'kql' | 'eql' | 'osquery'
export const TARGET_IDS: readonly TargetId[] = ['spl', 'kql', 'eql', 'osquery']

export const isTargetId = (s: string): s is TargetId => (TARGET_IDS as readonly string[]).includes(s)

export interface TargetOptions {
  /** A user's YAML file that adds log sources or overrides field names (`--pipeline FILE`). */
  readonly pipeline?: string
  /** A target-specific variant, e.g. KQL's schema family `defender` | `sentinel`. */
  readonly variant?: string
}
