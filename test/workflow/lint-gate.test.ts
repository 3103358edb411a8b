/**
 * The lint gate can fail: `npm run lint`'s own command (package.json), with the project's
 * .oxlintrc.json, run on fixture files written to a temporary folder (outside every override, as
 * a file in src/ is). A non-null assertion and an unchecked cast each make it exit non-zero; the
 * same code written with a type guard passes. One oxlint run, well under a second.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { lint: string } }
const [command, ...flags] = pkg.scripts.lint.split(' ')
const dir = mkdtempSync(join(tmpdir(), 'rulesmith-lint-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// tsgolint needs a project for the type-aware rules (no-unsafe-type-assertion).
writeFileSync(
  join(dir, 'tsconfig.json'),
  JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', noEmit: true }, include: ['*.ts'] }),
)
const PREAMBLE = 'interface Rule {\n  readonly title: string\n}\n'
const FIXTURES: Record<string, string> = {
  'non-null.ts': PREAMBLE + 'export const firstTitle = (rules: readonly Rule[]): string => rules[0]!.title\n',
  'cast.ts': PREAMBLE + 'export const parsed = (text: string): Rule => JSON.parse(text) as Rule\n',
  'guarded.ts':
    PREAMBLE +
    'const isRule = (v: unknown): v is Rule =>\n' +
    "  typeof v === 'object' && v !== null && 'title' in v && typeof v.title === 'string'\n" +
    "export const firstTitle = (rules: readonly Rule[]): string => rules[0]?.title ?? ''\n" +
    'export function parsed(text: string): Rule {\n' +
    '  const v: unknown = JSON.parse(text)\n' +
    "  if (!isRule(v)) throw new Error('not a rule')\n" +
    '  return v\n' +
    '}\n',
}
for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(dir, name), text)

describe('npm run lint', () => {
  it('exits non-zero on a non-null assertion and on an unchecked cast; the guarded version has no finding', () => {
    expect(command).toBe('oxlint')
    // One run over the three files (a run costs about 0.3 s); --format json to read findings per file.
    const files = Object.keys(FIXTURES).map((name) => join(dir, name))
    const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'oxlint'), [...flags, '--format', 'json', ...files], {
      cwd: ROOT,
      encoding: 'utf8',
    })
    const report = JSON.parse(r.stdout) as { diagnostics: { code: string; filename: string }[] }
    const found = (name: string) => report.diagnostics.filter((d) => d.filename === join(dir, name)).map((d) => d.code)
    expect(found('non-null.ts')).toEqual(['typescript(no-non-null-assertion)'])
    expect(found('cast.ts')).toEqual(['typescript(no-unsafe-type-assertion)'])
    expect(found('guarded.ts')).toEqual([])
    expect(r.status, r.stderr).toBe(1)
  })
})
