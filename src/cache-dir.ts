/**
 * rulesmith's cache folder: $RULESMITH_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/rulesmith,
 * else ~/.cache/rulesmith (the XDG base directory convention; not node_modules/.cache, which a
 * pre-commit or global install keeps inside the tool's own environment and `npm ci` throws away).
 * It holds the KQL gate's record and snapshot (src/verify/kql-gate-cache.ts,
 * kql-gate-snapshot.ts) and parsed copies of the shipped YAML (src/shipped-yaml.ts).
 */
import { lstatSync, type Stats } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'

/** The cache folder, or undefined when caching is off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const own = env['RULESMITH_CACHE_DIR']
  if (own !== undefined) return own === '' ? undefined : own
  const xdg = env['XDG_CACHE_HOME']
  // The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'rulesmith')
  let home: string
  try {
    home = env['HOME'] || homedir()
  } catch {
    return undefined
  }
  return home ? join(home, '.cache', 'rulesmith') : undefined
}

/** Ours, and nobody else may write it (POSIX; elsewhere nothing is trusted). */
export function isPrivate(st: Stats): boolean {
  const uid = process.getuid?.()
  return uid !== undefined && st.uid === uid && (st.mode & 0o022) === 0
}

/** A folder of ours no one else may write to, not a link. */
export function trustedFolder(dir: string): boolean {
  try {
    const st = lstatSync(dir)
    return st.isDirectory() && isPrivate(st)
  } catch {
    return false
  }
}
