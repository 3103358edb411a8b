/**
 * Build once before the tests: the CLI tests run the compiled JavaScript, as users do. Type
 * errors are reported by `npm test`'s own `tsc` step; here a failed check must not hide the
 * tests' results, so the emitted JavaScript is used either way.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' })
}
