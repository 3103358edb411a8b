/**
 * The KQL gate, checking each query once: Microsoft's parser (src/verify/kql-parser.ts) costs about
 * a second to load and a few milliseconds a query, so a query it has accepted before is not parsed
 * again. What is remembered is only "accepted", as the SHA-256 of everything the verdict depends
 * on: this file's format, the parser package's version and size, the variant, the bytes of its
 * schema file (targets/kql/schema/<variant>.yml) and the query text. A rejected query is never
 * recorded, so its errors are always Microsoft's, current and complete.
 *
 * Safety: a line of the record is a pass only if it is exactly the 64-digit digest of the query
 * being checked. A truncated, corrupt or foreign line is the digest of no query (short of a
 * SHA-256 collision), so it is a miss and the parser runs; it can never make a bad query pass. A
 * record another user could write to (not ours, or group/world-writable) is not read at all.
 *
 * Where: $RULESMITH_CACHE_DIR (empty: no cache), else $XDG_CACHE_HOME/rulesmith, else
 * ~/.cache/rulesmith (the XDG base directory convention; not node_modules/.cache, which a
 * pre-commit or global install keeps inside the tool's own environment and `npm ci` throws away).
 * One append-only file, `kql-gate-passed`: one digest a line, started afresh past 8 MB
 * (about 120,000 queries). Failing to read or write it only costs the parser run.
 */
import { createHash } from 'node:crypto'
import { appendFileSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import type { Diagnostic } from '../diagnostics.js'
import type * as SnapshotGate from './kql-gate-snapshot.js'
import { targetPath } from '../paths.js'
import { cacheDir } from '../cache-dir.js'
import { isMap, scalarText } from '../guards.js'
import { readInputFile } from '../input-file.js'

const FORMAT = 'rulesmith-kql-gate-1'
const RECORD = 'kql-gate-passed'
const MAX_BYTES = 8 * 1024 * 1024
const DIGEST = /^[0-9a-f]{64}$/

export { cacheDir }

let parserId: string | undefined
const schemaDigests = new Map<string, string | undefined>()
let passed: Set<string> | undefined
/** The record's path, unless caching is off or the record is not to be trusted. */
let recordFile: string | undefined

/** The parser package's version and the size of its bundle: a different parser, a different key. */
function parser(): string {
  if (parserId === undefined) {
    const require = createRequire(import.meta.url)
    const pkg = require.resolve('@kusto/language-service-next/package.json')
    const manifest: unknown = JSON.parse(readFileSync(pkg, 'utf8'))
    const version = isMap(manifest) ? scalarText(manifest['version']) : undefined
    parserId = `${version}:${statSync(require.resolve('@kusto/language-service-next')).size}`
  }
  return parserId
}

function schemaDigest(variant: string): string | undefined {
  if (!schemaDigests.has(variant)) {
    let digest: string | undefined
    try {
      digest = sha256(readFileSync(targetPath('kql', 'schema', `${variant}.yml`)))
    } catch {
      digest = undefined // no such variant: the parser run reports it, nothing is cached
    }
    schemaDigests.set(variant, digest)
  }
  return schemaDigests.get(variant)
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

/**
 * A record line's digest: the line's format, the parser's identity and the schema's bytes, then
 * what the line is about. undefined when nothing can be recorded (no such variant, no parser).
 */
function recordKey(format: string, variant: string, ...about: string[]): string | undefined {
  const schema = schemaDigest(variant)
  if (schema === undefined) return undefined
  let id: string
  try {
    id = parser()
  } catch {
    return undefined
  }
  return sha256(JSON.stringify([format, id, variant, schema, ...about]))
}

/** The digest that stands for "Microsoft's parser accepted this query against this schema". */
export function gateKey(query: string, variant: string): string | undefined {
  return recordKey(FORMAT, variant, query)
}

/**
 * The record's size when it is our own regular file (no link) that no one else can write, 0 when
 * it is not there yet; undefined when it must not be used.
 */
function trustedSize(file: string): number | undefined {
  let st
  try {
    st = lstatSync(file)
  } catch {
    return 0 // not there yet: the first pass creates it, 0600
  }
  const uid = process.getuid?.()
  return st.isFile() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0 ? st.size : undefined
}

function record(): Set<string> {
  if (passed) return passed
  passed = new Set()
  const dir = cacheDir()
  const file = dir && join(dir, RECORD)
  const size = file ? trustedSize(file) : undefined
  if (!file || size === undefined) return passed
  recordFile = file
  try {
    if (size > MAX_BYTES) writeFileSync(file, '', { mode: 0o600 })
    else if (size > 0)
      for (const line of readFileSync(file, 'latin1').split('\n')) if (DIGEST.test(line)) passed.add(line)
  } catch {
    // Unreadable: everything is a miss.
  }
  return passed
}

function remember(key: string): void {
  const seen = record()
  if (seen.has(key)) return
  seen.add(key)
  if (!recordFile) return
  try {
    mkdirSync(dirname(recordFile), { recursive: true, mode: 0o700 })
    // One short append (O_APPEND): concurrent runs interleave whole lines.
    appendFileSync(recordFile, key + '\n', { mode: 0o600 })
  } catch {
    // A read-only or full disk: the next run checks the query again.
  }
}

let snapshotGate: typeof SnapshotGate | undefined

const FILE_FORMAT = 'rulesmith-kql-gate-file-1'
/** At most this many files are read ahead to decide on an early start; more, and the child starts on the first miss. */
const EARLY_FILES = 32

/**
 * The record's line for "every KQL query compiled from this file's text with these options passed
 * the gate": a hint for starting the gate's child early (startKqlGateEarly), never a verdict, which
 * is always the query's own line. undefined when nothing is recorded (no cache, no such variant).
 */
function fileKey(text: string, variant: string, options: string): string | undefined {
  return recordKey(FILE_FORMAT, variant, options, text)
}

/**
 * Before a `validate` of `paths` loads and compiles them: when they are a few files (the pre-commit
 * hook's changed files, an editor's one) not all of whose queries passed before, as the record
 * says, start the gate's child now. A child takes about 0.15 s to start from the snapshot: started
 * here, it starts while this process loads and compiles the rules, instead of after the first
 * query is known. Returns each file's key by resolved path for rememberPassedFiles; undefined for
 * a folder, a file that cannot be read (loading reports it), too many files or no cache folder.
 * Whether the child started early or not, every query is checked as checkKqlOnce says. Asked
 * again with the same arguments (the CLI asks before the rest of rulesmith loads, validate
 * again), the first answer is returned.
 */
export function startKqlGateEarly(
  paths: readonly string[],
  variant = 'defender',
  options = '',
): Promise<Map<string, string> | undefined> {
  const args = JSON.stringify([paths, variant, options])
  if (earlyStart?.args !== args) earlyStart = { args, keys: startEarly(paths, variant, options) }
  return earlyStart.keys
}
let earlyStart: { readonly args: string; readonly keys: Promise<Map<string, string> | undefined> } | undefined

async function startEarly(
  paths: readonly string[],
  variant: string,
  options: string,
): Promise<Map<string, string> | undefined> {
  const dir = cacheDir()
  if (dir === undefined || paths.length === 0 || paths.length > EARLY_FILES) return undefined
  const keys = new Map<string, string>()
  for (const path of paths) {
    try {
      if (!statSync(path).isFile()) return undefined
    } catch {
      return undefined
    }
    const read = readInputFile(path, 'rule file')
    const key = 'text' in read ? fileKey(read.text, variant, options) : undefined
    if (key === undefined) return undefined
    keys.set(resolve(path), key)
  }
  const seen = record()
  if ([...keys.values()].some((k) => !seen.has(k))) {
    snapshotGate ??= await import('./kql-gate-snapshot.js')
    snapshotGate.startSnapshotGateEarly(dir)
  }
  return keys
}

/** Record that these files' queries all passed (keys from startKqlGateEarly). */
export function rememberPassedFiles(keys: Iterable<string>): void {
  for (const key of keys) remember(key)
}

/**
 * Microsoft's parser's errors for `query` (src/verify/kql-parser.ts, loaded only on a miss); [] at
 * once when it accepted this very query against this very schema before. A miss is checked by a
 * child started from a V8 snapshot of the loaded parser when the cache folder holds one
 * (src/verify/kql-gate-snapshot.ts), else in-process; the result is the same.
 */
export async function checkKqlOnce(query: string, variant = 'defender'): Promise<Diagnostic[]> {
  const key = gateKey(query, variant)
  if (key !== undefined && record().has(key)) return []
  // No key (no node:crypto, as in the browser playground): no cache folder, so no snapshot either.
  const dir = key !== undefined ? cacheDir() : undefined
  let found: Diagnostic[]
  if (dir !== undefined) {
    snapshotGate ??= await import('./kql-gate-snapshot.js')
    found = await snapshotGate.checkKqlViaSnapshot(query, variant, dir)
  } else {
    const { checkKql } = await import('./kql-parser.js')
    found = await checkKql(query, variant)
  }
  if (found.length === 0 && key !== undefined) remember(key)
  return found
}

/**
 * End the gate's child process, if one was started, and wait for it: called when a `validate` is
 * done, so no process outlives the run and the run's CPU time includes the child's.
 */
export async function closeKqlGate(): Promise<void> {
  earlyStart = undefined
  await snapshotGate?.closeSnapshotGate()
}

/** Forget what this process read (tests change RULESMITH_CACHE_DIR between cases). */
export function resetGateCache(): void {
  passed = undefined
  earlyStart = undefined
  recordFile = undefined
  snapshotGate?.resetSnapshotGate()
}
