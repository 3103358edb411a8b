/**
 * The KQL gate from a V8 start-up snapshot. Loading Microsoft's parser (src/verify/kql-parser.ts)
 * and building its lazily made state costs about 1.5 s of CPU, most of a first `validate`. A
 * snapshot of a process that has done it once (src/verify/kql-gate-child.cts) starts in about
 * 0.2 s; Node 20 deserialises a snapshot only at process start, so the gate's queries go to a
 * child process started from it, one JSON line each way.
 *
 * Where and when: in the gate's cache folder (src/verify/kql-gate-cache.ts: $RULESMITH_CACHE_DIR,
 * else $XDG_CACHE_HOME/rulesmith, else ~/.cache/rulesmith), built on first use. A blob holds
 * compiled code of one Node binary, so it cannot ship in the package, and an install script
 * (`postinstall`) is skipped by `--ignore-scripts` and pnpm, runs as root for global installs, and
 * cannot follow a later Node upgrade. So: a run that finds no usable snapshot checks in-process as
 * before and starts a detached, low-priority build (src/verify/kql-gate-build.ts) for the next
 * run; about 2.5 s of CPU once, 24 MB of disk.
 *
 * Which: `kql-gate-<KEY>.snapshot` with `kql-gate-<KEY>.json` beside it, KEY the SHA-256 of
 * everything the blob depends on: the Node binary (path, version, V8, arch), the parser package
 * (version, bundle sizes), the child script's bytes, every variant's tables as bound, and the
 * warm-up queries. Another Node or parser, or an edited schema, is another key: the old files are
 * ignored, and when a new blob is in place all but the two used last are removed.
 *
 * Safety: a snapshot is code that node runs, so it is used only when the folder and both files
 * are ours, no link, and neither group- nor world-writable, the checks the record of accepted
 * queries gets (POSIX only: elsewhere the gate stays in-process). The build verifies a new blob
 * before publishing it: a child started from it must answer canary queries, one valid and one
 * invalid, exactly as the in-process parser does; then its SHA-256, size, inode and mtime go to
 * the .json, written after the blob (each by a rename, so never half a file). On use, a blob
 * whose size, inode or mtime differ from its .json is stale or damaged (node can crash on a
 * truncated blob): it is removed and rebuilt. Whatever fails (no blob, a bad one, the child not
 * starting, crashing, answering out of protocol, a variant it lacks), the query is checked
 * in-process, with the same result: the gate is never off and never different.
 *
 * RULESMITH_KQL_SNAPSHOT=0 turns the snapshot off (always in-process, nothing built).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
  type Stats,
} from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, setPriority } from 'node:os'
import { basename, join } from 'node:path'
import type { Diagnostic } from '../diagnostics.js'
import { isMap, scalarText } from '../guards.js'
import { packageRoot, targetPath } from '../paths.js'
import {
  bundlePaths,
  checkKql,
  isKustoError,
  isParserLoaded,
  kustoErrors,
  REDUCE_FROM,
  tableSchemas,
  toDiagnostics,
  type KustoError,
} from './kql-parser.js'
import { type GateToken, reducedQuery } from './kql-gate-reduce.js'

const FORMAT = 'rulesmith-kql-gate-snapshot-1'
const LOCK = 'kql-gate-snapshot.lock'
/** A build that has held the lock this long is presumed dead (it is bounded by BUILD_TIMEOUT_MS). */
const LOCK_STALE_MS = 15 * 60_000
const BUILD_TIMEOUT_MS = 10 * 60_000
/** How long a child may take to start before the gate gives up on it and checks in-process. */
const READY_TIMEOUT_MS = 60_000
const HEX64 = /^[0-9a-f]{64}$/

/** What a child is built from: src/verify/kql-gate-child.cts reads it as its INPUT.json. */
interface ChildInput {
  readonly key: string
  readonly bundle: readonly string[]
  readonly tables: Readonly<Record<string, [string, string][]>>
  readonly warm: readonly (readonly [string, string])[]
}
interface Plan {
  readonly key: string
  readonly input: ChildInput
  /** The child script's bytes, as hashed into the key. */
  readonly script: Buffer
}
/** The .json beside a blob. */
interface BlobMeta {
  readonly format: string
  readonly key: string
  readonly size: number
  readonly sha256: string
  readonly ino: number
  readonly mtimeMs: number
}
/** One token of Microsoft's lexer as the child reports it: its kind for the reducer, trivia length, text length. */
type LexedToken = [GateToken['kind'], number, number]
const TOKEN_KINDS: ReadonlySet<unknown> = new Set([
  'string',
  'identifier',
  'open',
  'close',
  'or',
  'and',
  'comma',
  'other',
])
const isLexedToken = (t: unknown): t is LexedToken =>
  Array.isArray(t) &&
  t.length === 3 &&
  TOKEN_KINDS.has(t[0]) &&
  Number.isInteger(t[1]) &&
  Number.isInteger(t[2]) &&
  t[1] >= 0 &&
  t[2] >= 0

/** A build job for src/verify/kql-gate-build.ts. */
export interface BuildJob {
  readonly dir: string
  readonly key: string
  readonly work: string
  /** Queries with the in-process parser's answers: a new blob must give exactly these. */
  readonly canaries: readonly { readonly variant: string; readonly query: string; readonly expected: KustoError[] }[]
}

const isCanary = (c: unknown): c is BuildJob['canaries'][number] =>
  isMap(c) &&
  typeof c['variant'] === 'string' &&
  typeof c['query'] === 'string' &&
  Array.isArray(c['expected']) &&
  c['expected'].every(isKustoError)

export function snapshotsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const setting = (env['RULESMITH_KQL_SNAPSHOT'] ?? '').trim().toLowerCase()
  return !['0', 'off', 'false', 'no'].includes(setting) && typeof process.getuid === 'function'
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')
export const blobPath = (dir: string, key: string): string => join(dir, `kql-gate-${key}.snapshot`)
export const metaPath = (dir: string, key: string): string => join(dir, `kql-gate-${key}.json`)
const childScript = (): string => join(packageRoot(), 'dist', 'src', 'verify', 'kql-gate-child.cjs')

/** Node, for the child and the build, without the user's NODE_OPTIONS (a flag there could change or break them). */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env['NODE_OPTIONS']
  return env
}

/** A child's pipe (a net.Socket, typed as a plain stream): whether it keeps this process running. */
interface Reffable {
  ref(): unknown
  unref(): unknown
}
const isReffable = (s: unknown): s is Reffable =>
  typeof s === 'object' &&
  s !== null &&
  typeof Reflect.get(s, 'ref') === 'function' &&
  typeof Reflect.get(s, 'unref') === 'function'

/** Ours, and nobody else may write it. */
const private_ = (st: Stats): boolean => st.uid === process.getuid?.() && (st.mode & 0o022) === 0

function trustedDir(dir: string): boolean {
  try {
    const st = lstatSync(dir)
    return st.isDirectory() && private_(st)
  } catch {
    return false
  }
}

function trustedFile(file: string): Stats | undefined {
  try {
    const st = lstatSync(file)
    return st.isFile() && private_(st) ? st : undefined
  } catch {
    return undefined
  }
}

/** Queries each variant's child answers while it is built: they warm the parser and are the build's canaries. */
function warmQueries(tables: Record<string, [string, string][]>): [string, string][] {
  return Object.entries(tables).flatMap(([variant, list]): [string, string][] => {
    const [table, schema] = list[0] ?? ['T', '(x:string)']
    const c = /(\w+):string/.exec(schema)?.[1] ?? 'x'
    return [
      [
        variant,
        `${table}\n| where ${c} =~ "a" or ${c} contains "b" or ${c} startswith "c" or ${c} endswith @"\\d"` +
          ` or ${c} matches regex "e" or ${c} in~ ("f", "g") or ${c} has_any ("h") or isempty(${c})\n| project ${c}`,
      ],
      [variant, `${table}\n| where NoSuchColumn == 1`],
    ]
  })
}

let planned: Plan | null | undefined

/** The key and the child's input for this Node, parser and schema; null when the snapshot cannot be made. */
function plan(): Plan | null {
  if (planned !== undefined) return planned
  try {
    const script = readFileSync(childScript())
    const families = readdirSync(targetPath('kql', 'schema'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => f.slice(0, -'.yml'.length))
      .sort()
    const tables = Object.fromEntries(families.map((f) => [f, tableSchemas(f)]))
    const bundle = bundlePaths()
    const require = createRequire(import.meta.url)
    const manifest: unknown = JSON.parse(
      readFileSync(require.resolve('@kusto/language-service-next/package.json'), 'utf8'),
    )
    const warm = warmQueries(tables)
    const identity = [
      FORMAT,
      [process.execPath, process.version, process.versions.v8, process.arch, process.platform],
      [
        isMap(manifest) ? scalarText(manifest['version']) : undefined,
        bundle.map((f) => [basename(f), statSync(f).size]),
      ],
      sha256(script),
      tables,
      warm,
    ]
    const key = sha256(JSON.stringify(identity))
    planned = { key, script, input: { key, bundle, tables, warm } }
  } catch {
    planned = null // e.g. dist/ not built (tests from src/ without a build), or a malformed schema
  }
  return planned
}

/** The blob for `key` in `dir` when it can be used; a stale or damaged one is removed. */
export function usableBlob(dir: string, key: string): string | undefined {
  if (!trustedDir(dir)) return undefined
  const blob = blobPath(dir, key)
  const meta = metaPath(dir, key)
  const metaStat = trustedFile(meta)
  if (!metaStat) return undefined
  const blobStat = trustedFile(blob)
  let m: unknown
  try {
    m = JSON.parse(readFileSync(meta, 'utf8'))
  } catch {
    m = undefined
  }
  const fine =
    blobStat !== undefined &&
    isMap(m) &&
    m['format'] === FORMAT &&
    m['key'] === key &&
    m['size'] === blobStat.size &&
    m['ino'] === blobStat.ino &&
    m['mtimeMs'] === blobStat.mtimeMs &&
    typeof m['sha256'] === 'string' &&
    HEX64.test(m['sha256'])
  if (fine) {
    try {
      // The .json's mtime is when this snapshot was last used: the build's pruning keeps the recent ones.
      utimesSync(meta, new Date(), new Date())
    } catch {
      // read-only: pruning sees an older use
    }
    return blob
  }
  removeBlob(dir, key)
  return undefined
}

function removeBlob(dir: string, key: string): void {
  // The .json first: without it the blob is never used, whatever happens next.
  for (const f of [metaPath(dir, key), blobPath(dir, key)])
    try {
      unlinkSync(f)
    } catch {
      // already gone
    }
}

/** A child started from the snapshot; `check` resolves to undefined whenever the answer must come from in-process. */
class GateChild {
  private readonly proc: ChildProcess
  private readonly pending = new Map<number, (answer: Record<string, unknown> | undefined) => void>()
  private nextId = 1
  private ready = false
  private failed = false
  private partial: string[] = []
  private readonly readyTimer: NodeJS.Timeout

  /** `args`: node's arguments, `--snapshot-blob BLOB` (or the child script and its input, in tests). */
  constructor(
    private readonly dir: string,
    readonly key: string,
    args: readonly string[],
  ) {
    // cwd: the cache folder, so even a crashing child leaves nothing in the user's folder.
    this.proc = spawn(process.execPath, args, {
      cwd: dir,
      env: childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    })
    this.proc.unref()
    this.proc.on('error', () => this.fail(false))
    this.proc.on('exit', () => this.fail(!this.ready))
    this.proc.stdin?.on('error', () => this.fail(false))
    this.proc.stdout?.setEncoding('utf8')
    this.proc.stdout?.on('data', (chunk: string) => this.receive(chunk))
    // The output ending is the child's end: nothing more will be answered.
    this.proc.stdout?.on('close', () => this.fail(!this.ready))
    // Node's own messages (a crash, a warning) are never the user's business: read and dropped.
    this.proc.stderr?.resume()
    for (const s of [this.proc.stdin, this.proc.stdout, this.proc.stderr]) if (isReffable(s)) s.unref()
    this.readyTimer = setTimeout(() => this.fail(false), READY_TIMEOUT_MS)
    this.readyTimer.unref()
  }

  /** Queries sent and not yet answered. */
  get waiting(): number {
    return this.pending.size
  }

  /** False once the child has failed (its queries then go in-process). */
  get alive(): boolean {
    return !this.failed
  }

  async check(query: string, variant: string): Promise<KustoError[] | undefined> {
    const errors = (await this.ask({ variant, query }))?.['errors']
    // A variant the snapshot lacks, or the parser throwing: in-process decides (and reports it the usual way).
    return Array.isArray(errors) && errors.every(isKustoError) ? errors : undefined
  }

  /**
   * Microsoft's lexer's tokens of `query` as `[kind, trivia length, text length]`; null when the
   * lexer reports anything or its tokens do not spell the query (the gate then binds the whole
   * query); undefined when the child cannot answer.
   */
  async lex(query: string): Promise<LexedToken[] | null | undefined> {
    const answer = await this.ask({ variant: '', query, lex: true })
    const tokens = answer?.['tokens']
    if (tokens === null) return null
    return Array.isArray(tokens) && tokens.every(isLexedToken) ? tokens : undefined
  }

  private ask(request: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    if (this.failed) return Promise.resolve(undefined)
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.keepAlive()
      this.proc.stdin?.write(JSON.stringify({ id, ...request }) + '\n')
    })
  }

  /**
   * While an answer is awaited the child keeps this process running (its output and the process
   * itself: a child that dies closes its output before its exit is reported, and without the
   * process handle this process would end there, the answer never given); otherwise it does not.
   */
  private keepAlive(): void {
    const out = this.proc.stdout
    const waiting = this.pending.size > 0
    if (waiting) this.proc.ref()
    else this.proc.unref()
    if (isReffable(out)) {
      if (waiting) out.ref()
      else out.unref()
    }
  }

  private receive(chunk: string): void {
    // Only the new chunk is searched: a long query's tokens arrive in many chunks.
    let start = 0
    let nl: number
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      this.partial.push(chunk.slice(start, nl))
      const line = this.partial.join('')
      this.partial = []
      start = nl + 1
      this.answer(line)
    }
    if (start < chunk.length) this.partial.push(chunk.slice(start))
  }

  private answer(line: string): void {
    let m: unknown
    try {
      m = JSON.parse(line)
    } catch {
      return this.fail(!this.ready)
    }
    if (!isMap(m)) return this.fail(!this.ready)
    if (!this.ready) {
      // The first line names the key the snapshot was built for: anything else is a wrong blob.
      if (m['ready'] !== this.key) return this.fail(true)
      this.ready = true
      clearTimeout(this.readyTimer)
      return
    }
    const id = m['id']
    const resolve = typeof id === 'number' ? this.pending.get(id) : undefined
    if (!resolve || typeof id !== 'number') return this.fail(false)
    this.pending.delete(id)
    resolve(m)
    this.keepAlive()
  }

  /** Let the child go: its input ends and it exits; resolves once it has (its CPU and memory are then this process's). */
  close(): Promise<void> {
    this.failed = true
    clearTimeout(this.readyTimer)
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve())
      this.proc.ref()
      this.proc.stdin?.end()
    })
  }

  /** Give up on the child: every waiting query goes in-process; a blob that never started is removed. */
  private fail(blobIsBad: boolean): void {
    if (this.failed) return
    this.failed = true
    clearTimeout(this.readyTimer)
    if (blobIsBad) removeBlob(this.dir, this.key)
    for (const resolve of this.pending.values()) resolve(undefined)
    this.pending.clear()
    this.keepAlive()
    this.proc.kill()
  }
}

/**
 * This process's children: started on first need, a second one (on a machine with two or more
 * cores) only once SPREAD_AT queries wait on the first, so a one-rule validate starts one child
 * and a whole folder spreads its queries over two. null: none usable.
 */
let children: GateChild[] | null | undefined
let buildTried = false
const SPREAD_AT = 8
const MAX_CHILDREN = Math.min(2, availableParallelism())

/** The child with the fewest waiting queries, started on first need; null when there is none to be had. */
function gateChild(dir: string): GateChild | null {
  if (!keyChecked) {
    keyChecked = true
    const key = plan()?.key
    if (children && children.some((c) => c.key !== key)) {
      dropped.push(...children)
      for (const c of children) void c.close()
      children = undefined
    }
  }
  if (children === undefined) {
    const first = startChild(dir)
    children = first ? [first] : null
  }
  if (!children) return null
  const choice = chooseChild(children, MAX_CHILDREN)
  if (choice === 'start') {
    const another = startChild(dir)
    if (another) {
      children.push(another)
      return another
    }
  }
  return children[choice === 'start' ? leastWaiting(children) : choice] ?? null
}

/**
 * Which child takes the next query: the live one with the fewest waiting, or `'start'` when that
 * one already has `spreadAt` waiting and fewer than `max` children run. A failed child answers
 * nothing: it is chosen only when no other is alive (the query then goes in-process).
 */
export function chooseChild(
  children: readonly { readonly alive: boolean; readonly waiting: number }[],
  max: number,
  spreadAt = SPREAD_AT,
): number | 'start' {
  const best = leastWaiting(children)
  const chosen = children[best]
  if (chosen?.alive && chosen.waiting >= spreadAt && children.length < max) return 'start'
  return best
}

function leastWaiting(children: readonly { readonly alive: boolean; readonly waiting: number }[]): number {
  let best = 0
  children.forEach((c, i) => {
    const b = children[best]
    if (c.alive && (b === undefined || !b.alive || c.waiting < b.waiting)) best = i
  })
  return best
}

/**
 * Start this process's first child now, before any query is known (`validate` of a few files that
 * have not all passed before: the child starts while the rules load and compile); nothing when
 * one runs already, the parser is loaded here, or there is no usable snapshot. Working out this
 * process's key (plan) costs tens of milliseconds, so the snapshot used last is started, and
 * asked nothing until the key is known and is its own (gateChild).
 */
export function startSnapshotGateEarly(dir: string): void {
  if (children !== undefined || !snapshotsEnabled() || isParserLoaded() || !trustedDir(dir)) return
  let last: string | undefined
  let lastUse = -1
  try {
    for (const name of readdirSync(dir)) {
      const key = /^kql-gate-([0-9a-f]{64})\.json$/.exec(name)?.[1]
      const st = key !== undefined ? trustedFile(join(dir, name)) : undefined
      if (key !== undefined && st && st.mtimeMs > lastUse) [last, lastUse] = [key, st.mtimeMs]
    }
  } catch {
    return
  }
  const blob = last !== undefined ? usableBlob(dir, last) : undefined
  if (last !== undefined && blob !== undefined) {
    children = [new GateChild(dir, last, ['--snapshot-blob', blob])]
    keyChecked = false
  }
}

/** Whether the children's key has been compared with this process's (an early start's has not). */
let keyChecked = true
/** Children let go because they were started from another key's snapshot: waited for at the end. */
const dropped: GateChild[] = []

function startChild(dir: string): GateChild | undefined {
  const p = plan()
  const blob = p ? usableBlob(dir, p.key) : undefined
  return p && blob ? new GateChild(dir, p.key, ['--snapshot-blob', blob]) : undefined
}

/**
 * Kusto's diagnostics from a gate child, or undefined when the query must be checked in-process.
 * A query of REDUCE_FROM characters or more goes as in checkKql (src/verify/kql-parser.ts): the
 * lexer's tokens first, the reduced query bound, and the whole query only when the reduced one
 * has an error or none can be made.
 */
export async function checkViaChild(
  c: Pick<GateChild, 'check' | 'lex'>,
  query: string,
  variant: string,
): Promise<KustoError[] | undefined> {
  if (query.length >= REDUCE_FROM) {
    const lexed = await c.lex(query)
    if (lexed === undefined) return undefined
    const reduced = lexed === null ? undefined : reducedFrom(query, lexed)
    if (reduced !== undefined) {
      const found = await c.check(reduced, variant)
      if (found === undefined) return undefined
      if (!found.some((d) => d.severity === 'Error')) return []
    }
  }
  return c.check(query, variant)
}

/** The reduced query from the child's tokens (their text is the query's own, by position). */
function reducedFrom(query: string, lexed: readonly LexedToken[]): string | undefined {
  const tokens: GateToken[] = []
  let at = 0
  for (const [kind, triviaLength, textLength] of lexed) {
    const trivia = query.slice(at, at + triviaLength)
    const text = query.slice(at + triviaLength, at + triviaLength + textLength)
    tokens.push({ kind, text, trivia })
    at += triviaLength + textLength
  }
  // The child checked that the tokens spell the query; lengths that do not add up are not that.
  return at === query.length ? reducedQuery(tokens) : undefined
}

/**
 * Microsoft's parser's errors for `query`: from the snapshot's child when there is a usable
 * snapshot in `dir` and the parser is not already loaded here, else in-process (and then a build
 * of the snapshot is started for the next run when there is none).
 */
export async function checkKqlViaSnapshot(query: string, variant: string, dir: string): Promise<Diagnostic[]> {
  if (snapshotsEnabled() && !isParserLoaded()) {
    const c = gateChild(dir)
    const found = c ? await checkViaChild(c, query, variant) : undefined
    if (found) return toDiagnostics(query, found)
  }
  const diagnostics = await checkKql(query, variant)
  if (snapshotsEnabled() && !buildTried) {
    buildTried = true
    try {
      startBuild(dir)
    } catch {
      // No snapshot this time: the next run tries again.
    }
  }
  return diagnostics
}

/** Take the build lock in `dir`; false when another build holds it. */
function takeLock(dir: string): boolean {
  const lock = join(dir, LOCK)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // 'wx' is O_EXCL: fails on any existing file, a link included.
      writeFileSync(lock, `${process.pid} ${new Date().toISOString()}\n`, { flag: 'wx', mode: 0o600 })
      return true
    } catch {
      const st = trustedFile(lock)
      if (!st || Date.now() - st.mtimeMs < LOCK_STALE_MS) return false
      rmSync(lock, { force: true })
    }
  }
  return false
}

/** Prepare a build job in `dir` and start it detached, unless a usable snapshot or a running build is there. */
function startBuild(dir: string): void {
  const p = plan()
  if (!p) return
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!trustedDir(dir) || usableBlob(dir, p.key) || !takeLock(dir)) return
  let work: string | undefined
  try {
    const job = prepareJob(dir, p)
    work = job.work
    const proc = spawn(
      process.execPath,
      [join(packageRoot(), 'dist', 'src', 'verify', 'kql-gate-build.js'), job.work],
      {
        cwd: dir,
        detached: true,
        env: childEnv(),
        stdio: 'ignore',
        windowsHide: true,
      },
    )
    proc.on('error', () => undefined)
    proc.unref()
  } catch {
    if (work) rmSync(work, { recursive: true, force: true })
    rmSync(join(dir, LOCK), { force: true })
  }
}

/** Write the build's files into a fresh private folder inside `dir` (same file system: the blob is renamed into place). */
function prepareJob(dir: string, p: Plan): BuildJob {
  const work = mkdtempSync(join(dir, 'kql-gate-build-'))
  const canaries = p.input.warm.map(([variant, query]) => ({ variant, query, expected: kustoErrors(query, variant) }))
  const job: BuildJob = { dir, key: p.key, work, canaries }
  writeFileSync(join(work, 'input.json'), JSON.stringify(p.input), { mode: 0o600 })
  // The snapshot builder runs its entry as a bare script, without the `exports` tsc's output sets.
  writeFileSync(join(work, 'entry.cjs'), Buffer.concat([Buffer.from('var exports = {};\n'), p.script]), { mode: 0o600 })
  writeFileSync(join(work, 'job.json'), JSON.stringify(job), { mode: 0o600 })
  return job
}

/**
 * Build, verify and publish a snapshot (the detached process src/verify/kql-gate-build.ts, and
 * bench/ in the foreground). Returns what happened, for the bench; never throws.
 */
export function runBuildJob(work: string): { ok: boolean; why: string; ms: number; size?: number } {
  const started = performance.now()
  const done = (ok: boolean, why: string, size?: number) => ({ ok, why, ms: performance.now() - started, size })
  let job: BuildJob | undefined
  try {
    try {
      setPriority(10) // below the user's foreground work; inherited by the builder
    } catch {
      // not allowed: build at normal priority
    }
    const j: unknown = JSON.parse(readFileSync(join(work, 'job.json'), 'utf8'))
    const canaries = isMap(j) && Array.isArray(j['canaries']) ? j['canaries'].filter(isCanary) : []
    if (!isMap(j) || typeof j['dir'] !== 'string' || typeof j['key'] !== 'string' || canaries.length === 0)
      return done(false, 'malformed job')
    job = { dir: j['dir'], key: j['key'], work, canaries }
    const tmp = join(work, 'blob')
    const built = spawnSync(
      process.execPath,
      ['--snapshot-blob', tmp, '--build-snapshot', join(work, 'entry.cjs'), join(work, 'input.json')],
      { cwd: work, env: childEnv(), stdio: 'ignore', timeout: BUILD_TIMEOUT_MS, windowsHide: true },
    )
    if (built.status !== 0) return done(false, `snapshot build exited ${built.status ?? built.signal}`)
    const why = verifyBlob(tmp, job)
    if (why) return done(false, why)
    const size = publishBlob(tmp, job.dir, job.key)
    prune(job.dir, job.key)
    return done(true, 'built', size)
  } catch (e) {
    return done(false, e instanceof Error ? e.message : String(e))
  } finally {
    rmSync(work, { recursive: true, force: true })
    if (job) rmSync(join(job.dir, LOCK), { force: true })
  }
}

/**
 * Move a verified blob into place as `key`'s snapshot in `dir`: the blob by a rename, then its
 * .json (SHA-256, size, inode, mtime) by another, so a reader never sees a .json without its whole
 * blob. Returns the blob's size.
 */
export function publishBlob(tmp: string, dir: string, key: string): number {
  chmodSync(tmp, 0o600)
  const digest = sha256(readFileSync(tmp))
  const blob = blobPath(dir, key)
  renameSync(tmp, blob)
  const st = statSync(blob)
  const meta: BlobMeta = { format: FORMAT, key, size: st.size, sha256: digest, ino: st.ino, mtimeMs: st.mtimeMs }
  const metaTmp = `${metaPath(dir, key)}.${process.pid}.tmp`
  writeFileSync(metaTmp, JSON.stringify(meta), { mode: 0o600 })
  renameSync(metaTmp, metaPath(dir, key))
  return st.size
}

/** Start a child from the new blob and ask it the canaries: undefined when it answers as in-process did. */
export function verifyBlob(blob: string, job: BuildJob): string | undefined {
  const requests = job.canaries.map((c, i) => JSON.stringify({ id: i + 1, variant: c.variant, query: c.query }) + '\n')
  const r = spawnSync(process.execPath, ['--snapshot-blob', blob], {
    cwd: job.work,
    env: childEnv(),
    input: requests.join(''),
    encoding: 'utf8',
    timeout: READY_TIMEOUT_MS,
    maxBuffer: 16 << 20,
    windowsHide: true,
  })
  if (r.status !== 0) return `the new snapshot's child exited ${r.status ?? r.signal}`
  const lines = r.stdout.split('\n').filter(Boolean)
  if (lines[0] !== JSON.stringify({ ready: job.key })) return 'the new snapshot did not say its key'
  for (const [i, c] of job.canaries.entries())
    if (lines[i + 1] !== JSON.stringify({ id: i + 1, errors: c.expected }))
      return `the new snapshot's child answered canary ${i + 1} differently from the in-process parser`
  return undefined
}

/** Other keys' snapshots kept besides the new one: a few checkouts or Node versions in turn do not rebuild each time. */
const KEEP_OTHERS = 2

/**
 * Remove other keys' snapshots (another Node, parser or schema) but the KEEP_OTHERS used last
 * (a use touches the .json), and builds abandoned over an hour ago.
 */
function prune(dir: string, key: string): void {
  const others = new Map<string, number>()
  for (const name of readdirSync(dir)) {
    const m = /^kql-gate-([0-9a-f]{64})\.(snapshot|json)$/.exec(name)
    const other = m?.[1]
    if (other !== undefined && other !== key) {
      const used = m?.[2] === 'json' ? lstatSync(join(dir, name)).mtimeMs : 0
      others.set(other, Math.max(others.get(other) ?? 0, used))
    } else if (
      (name.startsWith('kql-gate-build-') || (name.startsWith('kql-gate-') && name.endsWith('.tmp'))) &&
      Date.now() - lstatSync(join(dir, name)).mtimeMs > 3600_000
    )
      rmSync(join(dir, name), { recursive: true, force: true })
  }
  const byUse = [...others].sort((a, b) => b[1] - a[1])
  for (const [old] of byUse.slice(KEEP_OTHERS)) removeBlob(dir, old)
}

/** Stop this process's child, if any, and wait for it; a later check starts another. */
export async function closeSnapshotGate(): Promise<void> {
  const all = [...(children ?? []), ...dropped.splice(0)]
  children = undefined
  keyChecked = true
  await Promise.all(all.map((c) => c.close()))
}

/** Forget this process's child and plan (tests switch cache folders); the child is told to stop. */
export function resetSnapshotGate(): void {
  for (const c of [...(children ?? []), ...dropped.splice(0)]) void c.close()
  children = undefined
  keyChecked = true
  planned = undefined
  buildTried = false
}

/** For bench/ and tests: prepare a build job in `dir` now (the lock taken), to run with runBuildJob. */
export function prepareBuild(dir: string): string | undefined {
  const p = plan()
  if (!p) return undefined
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!trustedDir(dir) || !takeLock(dir)) return undefined
  return prepareJob(dir, p).work
}

/**
 * A gate child for bench/ and tests: `args` start it (`['--snapshot-blob', BLOB]`, or the child
 * script and an input file), `key` is the key it must say it has; a blob it fails to start from
 * is removed from `dir`. `check` resolves to undefined where the gate would check in-process.
 */
export const startGateChild = (
  dir: string,
  key: string,
  args: readonly string[],
): Pick<GateChild, 'check' | 'lex' | 'close'> => new GateChild(dir, key, args)

/** The child's input for this process's key (bench/, tests), or undefined when no snapshot can be made. */
export const snapshotInput = (): ChildInput | undefined => plan()?.input ?? undefined

/** The compiled child script (bench/, tests). */
export const childScriptPath = childScript

/** The snapshot key this process would use (bench/, tests). */
export const snapshotKey = (): string | undefined => plan()?.key ?? undefined

/** How many children this process has started and not let go (tests). */
export const runningChildren = (): number => children?.length ?? 0

/** Whether a usable snapshot is in `dir` (bench/, tests). */
export const hasSnapshot = (dir: string): boolean => {
  const key = plan()?.key
  return key !== undefined && usableBlob(dir, key) !== undefined
}
