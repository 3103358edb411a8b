/**
 * What a detection team does with the pre-commit hook, run with real `pre-commit` (Debian's,
 * installed by .ci/run): `rulesmith init` writes the repository, its `.pre-commit-config.yaml`
 * names a copy of this repository by release tag or by commit id, pre-commit installs the node
 * hook (npm install, npm pack, a global install of the tarball) and runs it on a good rule, then
 * on a bad one. The npm packages come from the registry through npm's cache, as for users.
 *
 * No assertions here: this gathers what happened, and pre-commit.test.ts judges it. The global
 * setup starts it in the background at the start of `npm test` (the installations mostly wait on
 * npm and the disk, and the other test files run meanwhile); run alone, the test runs it itself.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/[\\/]$/, '')
const CLI = join(ROOT, 'bin', 'rulesmith.js')

export const GOOD = 'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows.yml'
export const BAD = 'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows_typo.yml'

export interface Run {
  readonly code: number | null
  readonly out: string
}

export interface RevResult {
  readonly rev: string
  readonly init: Run
  readonly good: Run
  readonly bad: Run
}

export interface ScenarioResult {
  /** `pre-commit --version`, or why it could not run. */
  readonly preCommit: string
  readonly tag: string
  readonly revs: readonly RevResult[]
  /** An exception that stopped the scenario (a missing program, a git failure). */
  readonly failure?: string
}

/**
 * The environment of a user's shell: none of the npm_* variables `npm test` sets for its scripts
 * (npm_config_local_prefix would point the hook's npm at this checkout), no node_modules/.bin.
 */
function userEnv(preCommitHome: string): NodeJS.ProcessEnv {
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

/** A program, asynchronously: the two installations run side by side. */
function run(cmd: string, args: readonly string[], cwd: string, home: string): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env: userEnv(home), timeout: 240_000 })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')))
    child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')))
    child.on('error', (e) => done({ code: null, out: out + String(e) }))
    child.on('close', (code) => done({ code, out }))
  })
}

function git(cwd: string, home: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: userEnv(home) })
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} in ${cwd}: ${r.stderr}`)
  return r.stdout.trim()
}

/** The good rule with a new id and a condition naming a selection that does not exist. */
const badRule = (good: string): string =>
  good
    .replace(/^id: .*$/m, 'id: 2b0d6f0e-8f3a-4c55-9a51-3c1e7d2b9f10')
    .replace(/^title: .*$/m, 'title: Volume Shadow Copies Deleted (typo)')
    .replace('condition: selection_img and selection_cli', 'condition: selection_img and selection_cmd')

export async function runPreCommitScenario(): Promise<ScenarioResult> {
  const temp = mkdtempSync(join(tmpdir(), 'rulesmith-pre-commit-'))
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  const tag = `v${version}`
  const home = join(temp, 'home')
  try {
    const v = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' })
    const preCommit = v.error ? `not installed: ${v.error.message}` : v.stdout.trim()
    if (v.error) return { preCommit, tag, revs: [] }

    // This checkout's files as they are now (committed or not), as a repository with the release tag.
    const source = join(temp, 'rulesmith')
    const skip = new Set(['.git', 'node_modules', 'dist', 'tmp'])
    cpSync(ROOT, source, {
      recursive: true,
      filter: (src) => {
        const rel = src.slice(ROOT.length).replace(/^[\\/]+/, '')
        return !skip.has(rel.split(/[\\/]/)[0]!) && !rel.endsWith('.tgz')
      },
    })
    git(source, home, 'init', '-q')
    git(source, home, 'add', '-A')
    git(source, home, 'commit', '-q', '-m', 'release')
    git(source, home, 'tag', tag)
    const commit = git(source, home, 'rev-parse', 'HEAD')

    const check = async (rev: string): Promise<RevResult> => {
      const repo = mkdtempSync(join(temp, 'detections-'))
      const cache = `${repo}-cache`
      const init = await run(process.execPath, [CLI, 'init', '--hook-repo', source, '--hook-rev', rev], repo, cache)
      git(repo, cache, 'init', '-q')
      git(repo, cache, 'add', '-A')
      const good = await run('pre-commit', ['run', '--all-files'], repo, cache)
      writeFileSync(join(repo, BAD), badRule(readFileSync(join(repo, GOOD), 'utf8')))
      git(repo, cache, 'add', '-A')
      const bad = await run('pre-commit', ['run', '--all-files'], repo, cache)
      return { rev, init, good, bad }
    }
    const revs = await Promise.all([check(tag), check(commit)])
    return { preCommit, tag, revs }
  } catch (e) {
    return { preCommit: '', tag, revs: [], failure: (e as Error).stack ?? String(e) }
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
}
