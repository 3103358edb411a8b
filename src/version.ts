import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from './paths.js'
import { isMap } from './guards.js'

let cached: string | undefined

/** The package's version, from its package.json. */
export function version(): string {
  if (cached === undefined) {
    const pkg: unknown = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'))
    const v = isMap(pkg) ? pkg['version'] : undefined
    if (typeof v !== 'string') throw new Error(`${join(packageRoot(), 'package.json')} has no version`)
    cached = v
  }
  return cached
}
