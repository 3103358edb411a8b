/**
 * Put an output folder in place all or nothing (`bundle --out`, `compile --out`): every file is
 * written into a fresh temporary folder beside DIR, which is then renamed to DIR (rename within one
 * file system is atomic on POSIX). A previous output in DIR is renamed aside first and deleted only
 * after the new one is in place; on any failure the temporary folder is removed and DIR is as it
 * was (absent, or the previous output), with no `.DIR.tmp-*` or `.DIR.old-*` left beside it.
 *
 * DIR belongs to rulesmith: it is replaced whole, so files the run no longer produces disappear
 * with it. A DIR that is not empty and holds no manifest of the same kind is refused, so a typo
 * never deletes a folder of the user's. A DIR that is a symbolic link to a folder is followed: the
 * folder it points to is replaced and the link stays; a link to nothing, or to a file, is refused.
 */
import { randomBytes } from 'node:crypto'
import * as nodeFs from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { warning, type Diagnostic, type DiagnosticCode } from '../diagnostics.js'
import type { TarFile } from './tar.js'
import { errnoCode, errorMessage, isMap, must } from '../guards.js'

export class OutDirError extends Error {}

/** What owns an output folder: the manifest file that marks it, and what to call it in messages. */
export interface OutputKind {
  readonly manifest: string
  readonly what: string
  readonly command: string
}

export const BUNDLE_OUTPUT: OutputKind = { manifest: 'manifest.json', what: 'rulesmith bundle', command: 'bundle' }
export const COMPILE_OUTPUT: OutputKind = {
  manifest: 'compile-manifest.json',
  what: 'rulesmith compile output',
  command: 'compile --out',
}

/** The file system calls the writer makes: the real `node:fs`, or a fault-injecting one in tests. */
export type WriteFs = Pick<
  typeof nodeFs,
  | 'existsSync'
  | 'mkdirSync'
  | 'readdirSync'
  | 'readFileSync'
  | 'renameSync'
  | 'rmSync'
  | 'writeFileSync'
  | 'openSync'
  | 'readSync'
  | 'closeSync'
> & { lstatSync: typeof nodeFs.lstatSync; statSync: typeof nodeFs.statSync; realpathSync: typeof nodeFs.realpathSync }

/**
 * The folder DIR names: DIR itself, or the folder a symbolic link DIR points to. Refuses a DIR that
 * is a file, or a link to nothing or to a file.
 */
export function resolveOutDir(dir: string, fs: WriteFs = nodeFs): string {
  const target = resolve(dir)
  let st: nodeFs.Stats
  try {
    st = fs.lstatSync(target)
  } catch {
    return target // absent: created by the write
  }
  if (st.isSymbolicLink()) {
    let real: string
    try {
      real = fs.realpathSync(target)
    } catch {
      throw new OutDirError(`'${dir}' is a symbolic link to nothing; remove it or give another folder`)
    }
    if (!fs.statSync(real).isDirectory())
      throw new OutDirError(`'${dir}' is a symbolic link to '${real}', which is not a folder`)
    return real
  }
  if (!st.isDirectory()) throw new OutDirError(`'${dir}' exists and is not a folder`)
  return target
}

/**
 * DIR may be absent, empty, or hold a previous output of the same kind (its manifest says
 * `"tool": "rulesmith"`); anything else is refused.
 */
export function checkOutDir(dir: string, kind: OutputKind = BUNDLE_OUTPUT, fs: WriteFs = nodeFs): void {
  const target = resolveOutDir(dir, fs)
  if (!fs.existsSync(target)) return
  if (fs.readdirSync(target).length === 0) return
  if (manifestTool(join(target, kind.manifest), fs) !== 'rulesmith')
    throw new OutDirError(
      `'${dir}' is not empty and holds no ${kind.what} (no ${kind.manifest}); give an empty or new folder: '${kind.command}' replaces the whole folder`,
    )
}

/**
 * How every manifest rulesmith writes begins (JSON.stringify with two spaces, `tool` first). A
 * compile manifest of SigmaHQ's rules to every target is ~7 MB, ~30 ms to parse, and it is
 * checked twice a run (before and at the swap): a manifest that begins so is ours without being
 * parsed. One that does not (reformatted, keys reordered) is parsed whole, as before.
 */
const OUR_MANIFEST_START = '{\n  "tool": "rulesmith",\n'

/** The manifest's `tool`, or undefined when it is unreadable, not JSON or not an object. */
function manifestTool(file: string, fs: WriteFs): unknown {
  try {
    if (!fs.statSync(file).isFile()) return undefined // a FIFO would block the read
    const fd = fs.openSync(file, 'r')
    try {
      const head = Buffer.alloc(OUR_MANIFEST_START.length)
      const got = fs.readSync(fd, head, 0, head.length, 0)
      if (head.subarray(0, got).toString('utf8') === OUR_MANIFEST_START) return 'rulesmith'
    } finally {
      fs.closeSync(fd)
    }
    const manifest: unknown = JSON.parse(fs.readFileSync(file, 'utf8'))
    return isMap(manifest) ? manifest['tool'] : undefined
  } catch {
    return undefined
  }
}

/**
 * The previous output, renamed aside when the new one took its place, that could not then be
 * removed: the new output is in place; this folder is left beside it for the user to delete.
 */
export interface LeftBehind {
  readonly folder: string
  readonly reason: string
}

/** The warning for a LeftBehind: the run succeeded, and one folder is left to delete. */
export function leftBehindWarning(left: LeftBehind, out: string): Diagnostic {
  return warning(
    'io/old-output-left',
    `the output is written; the previous output, renamed to '${left.folder}', could not be removed (${left.reason}): delete that folder`,
    undefined,
    out,
  )
}

/** A failed removal of the previous output, as the folder left and why. */
export function leftBehind(folder: string, e: unknown): LeftBehind {
  return { folder, reason: ioFailure(e)?.reason ?? errorMessage(e) }
}

/** Put `files` in DIR all or nothing; the previous output is returned when it could not be removed. */
export function writeAtomically(
  dir: string,
  files: readonly TarFile[],
  kind: OutputKind = BUNDLE_OUTPUT,
  fs: WriteFs = nodeFs,
): LeftBehind | undefined {
  const temp = makeTempFolder(dir, fs)
  try {
    const made = new Set<string>()
    for (const f of files) writeInto(temp.tmp, f.path, f.data, made, fs)
  } catch (e) {
    discardTempFolder(temp, fs)
    throw e
  }
  return swapIn(temp, kind, fs)
}

/** The temporary folder an output is written into before it replaces DIR (see writeAtomically). */
export interface TempFolder {
  /** The folder DIR names (a symbolic link followed). */
  readonly target: string
  readonly tmp: string
  /** The temporary folder's random suffix; a previous output is renamed aside under it. */
  readonly suffix: string
  /** The outermost folder above DIR that this run created (removed again on failure). */
  readonly createdParent?: string
}

/**
 * Create the temporary folder beside DIR. On failure nothing is left (a parent folder it
 * created is removed again) and the error is thrown.
 */
export function makeTempFolder(dir: string, fs: WriteFs = nodeFs): TempFolder {
  const target = resolveOutDir(dir, fs)
  const parent = dirname(target)
  const createdParent = firstMissing(parent, fs)
  let tmp: string | undefined
  try {
    fs.mkdirSync(parent, { recursive: true })
    // Not mkdtemp, which makes the folder 0700: the output gets the permissions the user's umask
    // gives any new folder. The random suffix keeps concurrent runs apart.
    const suffix = randomBytes(6).toString('hex')
    tmp = join(parent, `.${basename(target)}.tmp-${suffix}`)
    fs.mkdirSync(tmp)
    return { target, tmp, suffix, ...(createdParent ? { createdParent } : {}) }
  } catch (e) {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
    if (createdParent) fs.rmSync(createdParent, { recursive: true, force: true })
    throw e
  }
}

/**
 * Write one output file (`path` relative, `/`-separated) into the temporary folder. `made` holds
 * the folders already created, so each is made once rather than once per file.
 */
export function writeInto(
  tmp: string,
  path: string,
  data: string | Uint8Array,
  made: Set<string>,
  fs: WriteFs = nodeFs,
): void {
  const file = join(tmp, ...path.split('/'))
  const folder = dirname(file)
  if (!made.has(folder)) {
    fs.mkdirSync(folder, { recursive: true })
    made.add(folder)
  }
  fs.writeFileSync(file, data)
}

/** Remove the temporary folder (and a parent folder the run created): DIR stays as it was. */
export function discardTempFolder(temp: TempFolder, fs: WriteFs = nodeFs): void {
  fs.rmSync(temp.tmp, { recursive: true, force: true })
  if (temp.createdParent) fs.rmSync(temp.createdParent, { recursive: true, force: true })
}

/**
 * Put the written temporary folder in DIR's place: a previous output is renamed aside, the
 * temporary folder renamed to DIR, and the previous output deleted. On failure the previous
 * output is put back, the temporary folder removed, and the error thrown.
 */
export function swapIn(
  temp: TempFolder,
  kind: OutputKind = BUNDLE_OUTPUT,
  fs: WriteFs = nodeFs,
): LeftBehind | undefined {
  const old = swapInKeepingOld(temp, kind, fs)
  if (!old) return undefined
  try {
    fs.rmSync(old, { recursive: true, force: true })
    return undefined
  } catch (e) {
    return leftBehind(old, e)
  }
}

/**
 * swapIn, with the previous output's removal left to the caller: the folder it was renamed to
 * (beside DIR, `.DIR.old-*`), or undefined when there was none. The caller must remove it.
 */
export function swapInKeepingOld(
  temp: TempFolder,
  kind: OutputKind = BUNDLE_OUTPUT,
  fs: WriteFs = nodeFs,
): string | undefined {
  const { target, tmp } = temp
  const parent = dirname(target)
  let old: string | undefined
  let swapped = false
  try {
    if (fs.existsSync(target)) {
      checkOutDir(target, kind, fs)
      // Renamed to directly (no empty `.old-*` folder exists at any moment), under this run's suffix.
      old = join(parent, `.${basename(target)}.old-${temp.suffix}`)
      fs.renameSync(target, old)
    }
    try {
      fs.renameSync(tmp, target)
      swapped = true
    } catch (e) {
      if (old) {
        fs.renameSync(old, target) // put the previous output back
        old = undefined
      }
      throw e
    }
  } catch (e) {
    discardTempFolder(temp, fs)
    throw e
  }
  return swapped ? old : undefined
}

/** Removals in flight at once (see removeTree). */
const REMOVALS_IN_FLIGHT = 8

/**
 * Remove the folder `dir` and everything in it, as `rm -r` (a symbolic link is removed, never
 * followed), with several removals in flight on libuv's threads. Removing a previous output of
 * SigmaHQ's rules to every target (~10,000 files in 4 folders) waits on the file system far more
 * than it computes: `fs.rmSync` took 0.76-0.79 s there, this 0.37-0.38 s (files of the folders taken
 * in turn, so that the threads seldom wait on one folder's lock). An entry that vanished meanwhile
 * is not an error; any other failure is thrown once the removals in flight have settled.
 */
export async function removeTree(dir: string, fs: WriteFs = nodeFs): Promise<void> {
  const folders: string[] = []
  const filesByFolder: string[][] = []
  const walk = (folder: string): void => {
    folders.push(folder)
    const files: string[] = []
    for (const entry of nodeFs.readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) walk(path)
      else files.push(path)
    }
    filesByFolder.push(files)
  }
  try {
    walk(dir)
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return
    throw e
  }
  const files: string[] = []
  const longest = Math.max(0, ...filesByFolder.map((f) => f.length))
  for (let k = 0; k < longest; k++)
    for (const f of filesByFolder) if (k < f.length) files.push(must(f[k], 'k < length'))
  let next = 0
  let failure: unknown
  const unlinkNext = async (): Promise<void> => {
    while (next < files.length && failure === undefined) {
      const file = must(files[next++], 'next < length')
      try {
        await nodeFs.promises.unlink(file)
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') failure ??= e
      }
    }
  }
  await Promise.all(Array.from({ length: REMOVALS_IN_FLIGHT }, unlinkNext))
  if (failure !== undefined) throw failure
  // Deepest first: walk listed each folder before the folders inside it.
  for (const folder of folders.reverse()) fs.rmSync(folder, { recursive: true, force: true })
}

/** The outermost folder of `dir` that does not exist yet (to remove it again on failure). */
function firstMissing(dir: string, fs: WriteFs): string | undefined {
  let missing: string | undefined
  for (let d = dir; !fs.existsSync(d); d = dirname(d)) {
    missing = d
    if (dirname(d) === d) break
  }
  return missing
}

/** Write one file atomically (temp file in the same folder, then rename). */
export function writeFileAtomically(file: string, data: string | Uint8Array, fs: WriteFs = nodeFs): void {
  const target = resolve(file)
  fs.mkdirSync(dirname(target), { recursive: true })
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`)
  try {
    fs.writeFileSync(tmp, data)
    fs.renameSync(tmp, target)
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

// --- environment errors ------------------------------------------------------------------------

/** Diagnostic codes for the errors a write can meet (node's `err.code`), with what they mean. */
const IO_CODES: Readonly<Record<string, [code: DiagnosticCode, meaning: string]>> = {
  ENOSPC: ['io/no-space', 'no space left on the device'],
  EDQUOT: ['io/no-space', 'disk quota exceeded'],
  EROFS: ['io/read-only', 'the file system is read-only'],
  EACCES: ['io/permission-denied', 'permission denied'],
  EPERM: ['io/permission-denied', 'operation not permitted'],
  ENOTDIR: ['io/not-a-folder', 'a part of the path is a file, not a folder'],
  EISDIR: ['io/write-failed', 'a folder is in the way of a file'],
  EEXIST: ['io/write-failed', 'a file is in the way'],
  ENAMETOOLONG: ['io/write-failed', 'a file name is too long'],
  ELOOP: ['io/write-failed', 'too many levels of symbolic links'],
  EMFILE: ['io/write-failed', 'too many open files'],
  EIO: ['io/write-failed', 'input/output error'],
  EXDEV: ['io/write-failed', 'the temporary folder and the output are on different file systems'],
}

/** An error a write threw, as a diagnostic code and a reason for a `path: error: message [io/…]` line; undefined for a bug. */
export function ioFailure(e: unknown): { code: DiagnosticCode; reason: string } | undefined {
  const errno = errnoCode(e)
  if (errno === undefined || !/^E[A-Z]+$/.test(errno)) return undefined
  const [code, meaning]: [DiagnosticCode, string] = IO_CODES[errno] ?? ['io/write-failed', 'the write failed']
  return { code, reason: `${meaning} (${errno})` }
}

/** The message for an output folder that could not be written (nothing of it was). */
export const outputNotWritten = (reason: string): string =>
  `cannot write the output: ${reason}; nothing was written and the folder is as it was`

/**
 * Test hook for a full disk: RULESMITH_FAULT=ENOSPC@N makes the Nth file write fail with that code
 * after writing half of the file's bytes, as a disk that fills up mid-file does. Off unless set.
 */
export function writeFsFromEnv(env: NodeJS.ProcessEnv = process.env): WriteFs {
  const m = /^(E[A-Z]+)@(\d+|remove)$/.exec(env['RULESMITH_FAULT'] ?? '')
  if (!m) return nodeFs
  const code = must(m[1], 'the group matched')
  return m[2] === 'remove' ? failingRemoval(code) : faultyFs(code, Number(m[2]))
}

/**
 * node:fs, except that removing a previous output (a `.DIR.old-*` folder) fails with `code`
 * (RULESMITH_FAULT=CODE@remove): the new output is in place, the old one cannot be deleted.
 */
export function failingRemoval(code: string): WriteFs {
  return {
    ...nodeFs,
    rmSync: ((path: nodeFs.PathLike, options?: nodeFs.RmOptions) => {
      if (/\.old-[0-9a-f]+$/.test(String(path)))
        throw Object.assign(new Error(`${code}: simulated, remove '${String(path)}'`), { code, path: String(path) })
      return nodeFs.rmSync(path, options)
    }) as typeof nodeFs.rmSync,
  }
}

/** node:fs, except that the `nth` writeFileSync writes half its data and then fails with `code`. */
export function faultyFs(code: string, nth: number): WriteFs {
  let writes = 0
  return {
    ...nodeFs,
    writeFileSync: ((path: nodeFs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView) => {
      writes++
      if (writes !== nth) return nodeFs.writeFileSync(path, data)
      const bytes =
        typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      nodeFs.writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)))
      throw Object.assign(new Error(`${code}: simulated, write '${String(path)}'`), { code, path: String(path) })
    }) as typeof nodeFs.writeFileSync,
  }
}
