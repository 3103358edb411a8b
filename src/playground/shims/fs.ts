/**
 * The browser's `node:fs`: a read-only file system holding the package data the library reads at
 * run time (targets/<t>/*.yml, formats/*.hbs, package.json), embedded at build time by
 * scripts/build-playground.mjs, plus the files the page writes (the rule's tests file).
 * Only the calls the library makes are here; anything else throws, so a new use shows up at once.
 */
import { EMBEDDED_FILES } from 'rulesmith-embedded-files'
import { first } from '../../guards.js'

const files = new Map<string, string>(Object.entries(EMBEDDED_FILES as Record<string, string>))

/** The page's own files (e.g. the tests file typed beside the rule); `undefined` removes one. */
export function setVirtualFile(path: string, text: string | undefined): void {
  if (text === undefined) files.delete(path)
  else files.set(path, text)
}

const isDirectory = (path: string): boolean => {
  const prefix = path.endsWith('/') ? path : path + '/'
  for (const name of files.keys()) if (name.startsWith(prefix)) return true
  return false
}

function missing(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' })
}

export function readFileSync(path: unknown): string {
  const text = typeof path === 'string' ? files.get(path) : undefined
  if (text === undefined) throw missing(String(path))
  return text
}

export function existsSync(path: unknown): boolean {
  return typeof path === 'string' && (files.has(path) || isDirectory(path))
}

export function readdirSync(path: string): string[] {
  const prefix = path.endsWith('/') ? path : path + '/'
  const names = new Set<string>()
  for (const name of files.keys()) if (name.startsWith(prefix)) names.add(first(name.slice(prefix.length).split('/')))
  if (names.size === 0) throw missing(path)
  return [...names].sort()
}

export function statSync(path: string): { isFile(): boolean; isDirectory(): boolean } {
  if (!existsSync(path)) throw missing(path)
  const file = files.has(path)
  return { isFile: () => file, isDirectory: () => !file }
}

export function realpathSync(path: string): string {
  return path
}

export const lstatSync = statSync

/** The page writes nothing to disk (bundles are a CLI feature). */
export function writeFileSync(path: string): never {
  throw new Error(`cannot write '${path}' in the browser`)
}

/** The KQL gate's record of accepted queries (src/verify/kql-gate-cache.ts) is off in the page: no node:crypto. */
const noRecord = (): never => {
  throw new Error('the KQL gate keeps no record in the browser')
}
export const appendFileSync = noRecord
export const mkdirSync = noRecord

/** Nor a snapshot of the parser (src/verify/kql-gate-snapshot.ts): the page has no processes to start. */
// No openSync: src/input-file.ts takes its absence for the browser's embedded files.
const noSnapshot = (): never => {
  throw new Error('the KQL gate has no snapshot in the browser')
}
export const chmodSync = noSnapshot
export const mkdtempSync = noSnapshot
export const renameSync = noSnapshot
export const rmSync = noSnapshot
export const unlinkSync = noSnapshot
export const utimesSync = noSnapshot

export default { readFileSync, existsSync, readdirSync, statSync, lstatSync, realpathSync, writeFileSync }
