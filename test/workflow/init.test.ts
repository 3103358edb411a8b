/**
 * `rulesmith init`: everything it writes passes on the first run — validate, test, compile and
 * bundle in the new repository, and each rulesmith step of the GitHub Actions workflow as written —
 * and it never overwrites a file.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { listFiles, read, ROOT, rulesmith } from './helpers.js'

const made: string[] = []
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })))
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'rulesmith-init-'))
  made.push(d)
  return d
}

const FILES = [
  '.github/workflows/rulesmith.yml',
  '.pre-commit-config.yaml',
  '.rulesmith.yml',
  'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows.tests.yml',
  'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows.yml',
]

describe('rulesmith init', () => {
  const parent = temp()
  const repo = join(parent, 'detections')
  const init = rulesmith(parent, 'init', 'detections')

  it('writes the config, the pre-commit config, the workflow and an example rule with its tests', () => {
    expect(init.code, init.stderr).toBe(0)
    expect(listFiles(repo)).toEqual(FILES)
    for (const f of FILES) expect(init.stdout).toContain(`created ${join('detections', f)}\n`)
  })

  it('passes validate, test, compile for every target and bundle on the first run, without a warning', () => {
    const validate = rulesmith(repo, 'validate', 'rules/')
    expect(validate.code, validate.stderr).toBe(0)
    expect(validate.stderr).toBe('1 rule in 1 file: 0 errors, 0 warnings\n')
    const test = rulesmith(repo, 'test', 'rules/')
    expect(test.code, test.stdout + test.stderr).toBe(0)
    expect(test.stdout).toContain('tests: 1 passed, 0 failed')
    expect(test.stdout).toMatch(/ok 4 +ok 4 +ok 4 +ok 4\n/)
    const compile = rulesmith(repo, 'compile', '--target', 'all', 'rules/')
    expect(compile.code, compile.stderr).toBe(0)
    expect(compile.stdout.match(/title: "Volume Shadow Copies Deleted Via Vssadmin"/g)).toHaveLength(4)
    const bundle = rulesmith(repo, 'bundle', '--out', join(parent, 'release'), 'rules/')
    expect(bundle.code, bundle.stderr).toBe(0)
    expect(bundle.stderr).toContain('1 rules, 12 artifacts for spl, kql, eql, osquery')
  })

  it('runs every rulesmith step of the workflow as written', () => {
    interface Step {
      run?: string
      uses?: string
      if?: string
    }
    const wf = yaml.load(read(join(repo, '.github/workflows/rulesmith.yml'))) as {
      on: { push: { tags: string[] } }
      jobs: Record<string, { steps: Step[]; permissions?: Record<string, string>; if?: string }>
    }
    expect(wf.on.push.tags).toEqual(['v*'])
    expect(wf.jobs['validate']!.permissions).toMatchObject({ 'security-events': 'write' })
    expect(wf.jobs['validate']!.steps.some((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))).toBe(true)
    expect(wf.jobs['bundle']!.if).toBe("startsWith(github.ref, 'refs/tags/v')")
    const runs = Object.values(wf.jobs)
      .flatMap((j) => j.steps)
      .flatMap((s) => (s.run?.startsWith('rulesmith ') ? [s.run] : []))
    expect(runs).toHaveLength(4)
    const work = temp()
    for (const f of FILES) {
      mkdirSync(join(work, f, '..'), { recursive: true })
      writeFileSync(join(work, f), read(join(repo, f)))
    }
    for (const line of runs) {
      // `… > rulesmith.sarif || true`: the command before the redirection, its stdout kept.
      const [command, redirect] = line.replace(/ \|\| true$/, '').split(' > ')
      const args = command!.replace('${{ github.ref_name }}', 'v1.0.0').split(' ').slice(1)
      const r = rulesmith(work, ...args)
      expect(r.code, `${line}\n${r.stderr}`).toBe(0)
      if (redirect) expect(JSON.parse(r.stdout)).toMatchObject({ version: '2.1.0' })
    }
    expect(existsSync(join(work, 'release', 'detections-v1.0.0.tar.gz'))).toBe(true)
  })

  it('pins the pre-commit hook this repository ships, at this version’s tag', () => {
    const config = yaml.load(read(join(repo, '.pre-commit-config.yaml'))) as {
      repos: { repo: string; rev: string; hooks: { id: string; args: string[]; files: string }[] }[]
    }
    const version = (JSON.parse(read(join(ROOT, 'package.json'))) as { version: string }).version
    const hooks = yaml.load(read(join(ROOT, '.pre-commit-hooks.yaml'))) as { id: string }[]
    expect(config.repos).toEqual([
      {
        repo: 'https://github.com/rulesmith/rulesmith',
        rev: `v${version}`,
        hooks: [{ id: 'rulesmith-validate', args: ['--all-from', 'rules/'], files: '^rules/.*\\.ya?ml$' }],
      },
    ])
    expect(hooks.map((h) => h.id)).toContain(config.repos[0]!.hooks[0]!.id)
  })

  it('never overwrites: one existing file and nothing is written', () => {
    const again = rulesmith(parent, 'init', 'detections')
    expect(again.code).toBe(2)
    expect(again.stderr).toContain('nothing written')
    const dir = temp()
    writeFileSync(join(dir, '.rulesmith.yml'), 'targets: [spl]\n')
    const r = rulesmith(dir, 'init')
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      'rulesmith init: nothing written; these files exist in . and are never overwritten:\n  .rulesmith.yml\n',
    )
    expect(listFiles(dir)).toEqual(['.rulesmith.yml'])
    expect(readFileSync(join(dir, '.rulesmith.yml'), 'utf8')).toBe('targets: [spl]\n')
  })
})
