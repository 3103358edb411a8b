/** Shared pieces of the hostile-output tests: a scratch folder, a rule, and a folder's exact contents. */
import { createHash } from 'node:crypto'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll } from 'vitest'

/** A fresh folder under the system temp folder, removed after the file's tests. */
export function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-hostile-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A rule every target compiles; `meta` lines replace or add top-level keys (YAML, already quoted). */
export function ruleText(meta: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    title: 'Service stopped by sc.exe',
    id: '5f0c3f9e-1111-4222-8333-944455556666',
    status: 'test',
    level: 'high',
    ...meta,
  }
  return (
    Object.entries(fields)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') +
    `
logsource: { product: windows, category: process_creation }
detection:
  sel:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: ' stop '
  condition: sel
`
  )
}

export function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text)
  return path
}

/** Every entry under `dir` (dot files included) with its type and sha256, sorted: equal before and after means untouched. */
export function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      const st = lstatSync(path)
      const r = rel ? `${rel}/${name}` : name
      if (st.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(path)}`)
      else if (st.isDirectory()) {
        out.push(`${r}/`)
        walk(path, r)
      } else out.push(`${r} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`)
    }
  }
  walk(dir, '')
  return out
}

/** The diagnostic lines of a run's stderr (without the summary line). */
export const diagnosticLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => /: (error|warning): /.test(l))
