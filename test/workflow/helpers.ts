/** Shared by the workflow tests: copy the sample repo, run the built `rulesmith` (built by the global setup). */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'detection-repo')
const CLI = join(ROOT, 'bin', 'rulesmith.js')

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Run the built CLI in `cwd`, with no TTY and no colour forced either way. */
export function rulesmith(cwd: string, ...args: string[]): Run {
  const env = { ...process.env }
  delete env['FORCE_COLOR']
  delete env['NO_COLOR']
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env, timeout: 120_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const made: string[] = []

/** A fresh copy of the sample detection repository in a temporary folder. */
export function sampleRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-repo-'))
  made.push(dir)
  cpSync(FIXTURE, dir, { recursive: true })
  return dir
}

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** Every file under `dir`, relative with `/`, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name)
      if (statSync(full).isDirectory()) walk(full)
      else out.push(relative(dir, full).split('\\').join('/'))
    }
  }
  walk(dir)
  return out.sort()
}

export const read = (path: string): string => readFileSync(path, 'utf8')

/** Remove every sample repository this test file made. */
export function removeSampleRepos(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}
