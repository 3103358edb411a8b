/** Where the package's own data lives, whether running from src/ (tests) or dist/src/ (the CLI). */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

export function packageRoot(): string {
  if (root) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'targets'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('rulesmith: cannot find the package root')
    dir = up
  }
  root = dir
  return dir
}

/** `targets/<id>/…` inside the package. */
export const targetPath = (...parts: string[]): string => join(packageRoot(), 'targets', ...parts)
