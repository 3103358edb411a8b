/**
 * Put a bundle in place atomically: every file is written into a fresh temporary folder beside
 * DIR, which is then renamed to DIR (rename within one file system is atomic on POSIX). A previous
 * bundle in DIR is swapped out and deleted only after the new one is in place; on any failure the
 * temporary folder is removed and DIR is as it was (absent, or the previous bundle).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import type { TarFile } from './tar.js'

export class OutDirError extends Error {}

/**
 * DIR may be absent, empty, or hold a previous rulesmith bundle (its manifest says so); anything
 * else is refused, so a typo never deletes a folder of the user's.
 */
export function checkOutDir(dir: string): void {
  if (!existsSync(dir)) return
  if (!statSync(dir).isDirectory()) throw new OutDirError(`'${dir}' exists and is not a folder`)
  if (readdirSync(dir).length === 0) return
  const manifest = join(dir, 'manifest.json')
  let tool: unknown
  try {
    tool = (JSON.parse(readFileSync(manifest, 'utf8')) as { tool?: unknown }).tool
  } catch {
    tool = undefined
  }
  if (tool !== 'rulesmith')
    throw new OutDirError(`'${dir}' is not empty and holds no rulesmith bundle; give an empty or new folder`)
}

export function writeAtomically(dir: string, files: readonly TarFile[]): void {
  const target = resolve(dir)
  const parent = dirname(target)
  const createdParent = firstMissing(parent)
  mkdirSync(parent, { recursive: true })
  const tmp = mkdtempSync(join(parent, `.${basename(target)}.tmp-`))
  let old: string | undefined
  try {
    for (const f of files) {
      const path = join(tmp, ...f.path.split('/'))
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, f.data)
    }
    if (existsSync(target)) {
      checkOutDir(target)
      old = mkdtempSync(join(parent, `.${basename(target)}.old-`))
      renameSync(target, join(old, 'bundle'))
    }
    try {
      renameSync(tmp, target)
    } catch (e) {
      if (old) {
        renameSync(join(old, 'bundle'), target) // put the previous bundle back
        rmSync(old, { recursive: true, force: true })
        old = undefined
      }
      throw e
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    if (createdParent) rmSync(createdParent, { recursive: true, force: true })
    throw e
  }
  if (old) rmSync(old, { recursive: true, force: true })
}

/** The outermost folder of `dir` that does not exist yet (to remove it again on failure). */
function firstMissing(dir: string): string | undefined {
  let missing: string | undefined
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing = d
    if (dirname(d) === d) break
  }
  return missing
}

/** Write one file atomically (temp file in the same folder, then rename). */
export function writeFileAtomically(file: string, data: string | Uint8Array): void {
  const target = resolve(file)
  mkdirSync(dirname(target), { recursive: true })
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`)
  try {
    writeFileSync(tmp, data)
    renameSync(tmp, target)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
