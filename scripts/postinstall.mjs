#!/usr/bin/env node
/**
 * `npm install` / `npm ci` in a clone builds dist/ with tsc; installed from a package tarball
 * (no src/ in it, dist/ prebuilt), there is nothing to build.
 *
 * Why not the `prepare` script: npm also runs `prepare` inside `npm pack`, and prints its banner
 * ("> rulesmith@0.1.0 prepare") on stdout there. pre-commit's node hooks install a repository by
 * `npm install`, then `npm pack`, reading the tarball's name from pack's stdout, so any banner
 * breaks the hook's installation. `postinstall` runs on install and never on pack.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (!existsSync(join(root, 'src')) || !existsSync(join(root, 'tsconfig.json'))) process.exit(0)
// npm puts node_modules/.bin on the PATH of a lifecycle script; on Windows tsc is a .cmd shim.
const r = spawnSync('tsc', ['-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
})
if (r.error) {
  process.stderr.write(`rulesmith: cannot run tsc to build dist/: ${r.error.message}\n`)
  process.exit(1)
}
process.exit(r.status ?? 1)
