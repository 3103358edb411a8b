/**
 * The pre-commit hook as a detection team installs it: real `pre-commit` (Debian's, installed by
 * .ci/run) reads the `.pre-commit-config.yaml` that `rulesmith init` writes, naming a copy of this
 * repository by tag and by commit id, installs the node hook (npm install, npm pack, a global install of the tarball), and runs it
 * on a good and a bad rule. The npm packages come from the registry (through npm's cache), as they
 * do for users; each installation takes a few seconds with a warm cache.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, rulesmith } from './helpers.js'

const temp = mkdtempSync(join(tmpdir(), 'rulesmith-pre-commit-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

/**
 * The environment of a user's shell: none of the npm_* variables `npm test` sets for its scripts
 * (npm_config_local_prefix would point the hook's npm at this checkout), no node_modules/.bin.
 */
function userEnv(preCommitHome = join(temp, 'cache')): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env))
    if (!/^npm_/i.test(k) && !['INIT_CWD', 'NODE_OPTIONS', 'NODE_ENV', 'VITEST', 'FORCE_COLOR'].includes(k)) env[k] = v
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((p) => !p.includes('node_modules'))
    .join(delimiter)
  return {
    ...env,
    NO_COLOR: '1',
    PRE_COMMIT_HOME: preCommitHome,
    // Packages npm has cached are not fetched again: the same as a user's second install.
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    GIT_AUTHOR_NAME: 'test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  }
}

function run(cmd: string, args: readonly string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: userEnv(), timeout: 180_000 })
  if (r.error) throw r.error
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

/** pre-commit in `repo`, with its own cache folder so that two installations can run at once. */
function preCommit(repo: string, ...args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('pre-commit', args, { cwd: repo, env: userEnv(`${repo}-cache`), timeout: 180_000 })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')))
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')))
    child.on('error', fail)
    child.on('close', (code) => done({ code, out }))
  })
}

function git(cwd: string, ...args: string[]): string {
  const r = run('git', args, cwd)
  expect(r.code, r.out).toBe(0)
  return r.out.trim()
}

/** This checkout's files as they are now (not only what is committed), as a repository with the release tag. */
function releaseRepo(tag: string): { dir: string; commit: string } {
  const dir = join(temp, 'rulesmith')
  const skip = new Set(['.git', 'node_modules', 'dist', 'tmp'])
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (src) => {
      const rel = src.slice(ROOT.length).replace(/^[\\/]+/, '')
      return !skip.has(rel.split(/[\\/]/)[0]!) && !rel.endsWith('.tgz')
    },
  })
  git(dir, 'init', '-q')
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', 'release')
  git(dir, 'tag', tag)
  return { dir, commit: git(dir, 'rev-parse', 'HEAD') }
}

const GOOD = 'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows.yml'
const BAD = 'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows_typo.yml'

/** A detection repository as `rulesmith init` writes it, with the hook pinned to `source` at `rev`. */
function detectionRepo(source: string, rev: string): string {
  const dir = mkdtempSync(join(temp, 'detections-'))
  const init = rulesmith(dir, 'init', '--hook-repo', source, '--hook-rev', rev)
  expect(init.code, init.stderr).toBe(0)
  git(dir, 'init', '-q')
  git(dir, 'add', '-A')
  return dir
}

/** The example rule with a new id and a condition naming a selection that does not exist. */
const badRule = (repo: string): string =>
  readFileSync(join(repo, GOOD), 'utf8')
    .replace(/^id: .*$/m, 'id: 2b0d6f0e-8f3a-4c55-9a51-3c1e7d2b9f10')
    .replace(/^title: .*$/m, 'title: Volume Shadow Copies Deleted (typo)')
    .replace('condition: selection_img and selection_cli', 'condition: selection_img and selection_cmd')

describe('pre-commit installs and runs the rulesmith-validate hook', () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  const tag = `v${version}`

  it('is available (.ci/run installs Debian’s pre-commit)', () => {
    const r = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' })
    expect(r.error?.message ?? '', 'pre-commit is not installed: apt-get install pre-commit').toBe('')
    expect(r.stdout).toMatch(/^pre-commit \d+\.\d+/)
  })

  it('from the release tag and from a commit id: a good rule passes, a bad one is stopped at its line', async () => {
    const { dir: source, commit } = releaseRepo(tag)
    // The two installations mostly wait on npm: side by side, they take the time of one.
    const check = async (rev: string) => {
      const repo = detectionRepo(source, rev)
      const good = await preCommit(repo, 'run', '--all-files')
      expect(good.out).toMatch(/rulesmith validate\.+Passed/)
      expect(good.code).toBe(0)

      writeFileSync(join(repo, BAD), badRule(repo))
      git(repo, 'add', '-A')
      const bad = await preCommit(repo, 'run', '--all-files')
      expect(bad.out).toMatch(/rulesmith validate\.+Failed/)
      expect(bad.out).toContain(
        `${BAD}:23:32: error: condition refers to 'selection_cmd', which is not defined in detection`,
      )
      expect(bad.out).not.toContain(`${GOOD}:`)
      expect(bad.code).toBe(1)
    }
    await Promise.all([check(tag), check(commit)])
  })
})
