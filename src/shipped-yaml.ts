/**
 * The shipped YAML files (targets/<t>/target.yml and the tables under targets/<t>/schema/: about
 * 200 KB, 30–40 ms of js-yaml at every start of a compile or validate) parsed once per content:
 * a JSON copy of what js-yaml made of a text is kept in the cache folder (src/cache-dir.ts) under
 * the SHA-256 of the text, and read back in a millisecond or two.
 *
 * The copy stands for exactly what yaml.load returns: only a value made of what JSON holds the
 * same (strings, finite numbers other than -0, booleans, null, arrays, plain objects) is kept;
 * the file names its text's digest, holds the digest of its own JSON, and is used only when the
 * folder and the file are ours alone (not group- or world-writable, not links), the checks the
 * KQL gate's record and snapshot get. A copy that is damaged, truncated or not ours is ignored and
 * the text parsed as before; failing to write one only costs the parse. The value is then checked
 * by the same schema as a parsed one (src/backends/environment.ts).
 */
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { cacheDir, isPrivate, trustedFolder } from './cache-dir.js'
import { isMap } from './guards.js'

const FORMAT = 'rulesmith-shipped-yaml-1'
/** Copies kept at most; past this, the oldest are removed when a new one is written. */
const KEEP = 32
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

/** Whether JSON gives back exactly this value (types, -0, prototypes, no cycles or shared parts needed). */
function jsonSafe(v: unknown, depth = 0): boolean {
  if (depth > 64) return false
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0)
  if (Array.isArray(v)) return v.every((x) => jsonSafe(x, depth + 1))
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false
  return Object.values(v).every((x) => jsonSafe(x, depth + 1))
}

/** `yaml.load(text)`, from the cache folder's copy when there is a good one. Throws as yaml.load does. */
export function shippedYaml(text: string, env?: NodeJS.ProcessEnv): unknown {
  let dir: string | undefined
  let key: string | undefined
  try {
    dir = cacheDir(env ?? process.env)
    key = dir === undefined ? undefined : sha256(`${FORMAT}\n${text}`)
  } catch {
    key = undefined // no process or node:crypto (the browser playground): no cache
  }
  if (dir === undefined || key === undefined) return yaml.load(text)
  const file = join(dir, `yaml-${key}.json`)
  const copy = readCopy(dir, file, key)
  if (copy.found) return copy.value
  const value = yaml.load(text)
  if (jsonSafe(value)) writeCopy(dir, file, key, value)
  return value
}

function readCopy(dir: string, file: string, key: string): { found: true; value: unknown } | { found: false } {
  try {
    const st = lstatSync(file)
    if (!st.isFile() || !isPrivate(st) || !trustedFolder(dir)) return { found: false }
    const m: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (!isMap(m) || m['format'] !== FORMAT || m['key'] !== key || typeof m['json'] !== 'string')
      return { found: false }
    if (m['sha256'] !== sha256(m['json'])) return { found: false }
    return { found: true, value: JSON.parse(m['json']) }
  } catch {
    return { found: false }
  }
}

function writeCopy(dir: string, file: string, key: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!trustedFolder(dir)) return
    const json = JSON.stringify(value)
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, key, sha256: sha256(json), json }), { mode: 0o600, flag: 'wx' })
    renameSync(tmp, file)
    prune(dir)
  } catch {
    try {
      unlinkSync(tmp)
    } catch {
      // not written
    }
  }
}

/** Keep the KEEP newest copies (a developer editing target.yml makes one per edit). */
function prune(dir: string): void {
  const copies = readdirSync(dir)
    .filter((n) => /^yaml-[0-9a-f]{64}\.json$/.test(n))
    .map((n) => ({ n, at: lstatSync(join(dir, n)).mtimeMs }))
  if (copies.length <= KEEP) return
  copies.sort((a, b) => b.at - a.at)
  for (const { n } of copies.slice(KEEP)) unlinkSync(join(dir, n))
}
