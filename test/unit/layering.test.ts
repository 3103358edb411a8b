/**
 * The arrows between src/ folders point one way (docs/architecture.md): a backend never sees the
 * verifier that checks it nor the formats that present its output, and the bundle builder does
 * not reach into the CLI. Read from the import statements of the source files.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = resolve(__dirname, '../../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** Every relative module a file imports (static or dynamic), as a path relative to src/. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!)
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)))
}

const FORBIDDEN: readonly (readonly [from: string, to: string])[] = [
  ['backends/', 'verify/'],
  ['backends/', 'formats/'],
  ['bundle/', 'cli/'],
  ['formats/', 'cli/'],
]

describe('layering', () => {
  const files = sourceFiles(SRC)

  it.each(FORBIDDEN)('nothing in src/%s imports src/%s', (from, to) => {
    const found = files
      .filter((f) => relative(SRC, f).startsWith(from))
      .flatMap((f) =>
        importsOf(f)
          .filter((i) => i.startsWith(to))
          .map((i) => `${relative(SRC, f)} → ${i}`),
      )
    expect(found).toEqual([])
  })

  it('sees a forbidden import when one is written', () => {
    const file = join(SRC, 'backends', 'spl.ts')
    expect(importsOf(file, "import { x } from '../verify/spl.js'\nconst v = import('../cli/main.js')")).toEqual([
      'verify/spl.js',
      'cli/main.js',
    ])
  })
})
