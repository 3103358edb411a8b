/**
 * One table of diagnostic codes (src/diagnostics/codes.ts): every code the source writes is in it,
 * every code in it is written somewhere, and docs/diagnostics.md is the table as generated.
 * `Diagnostic.code` is typed by the table, so tsc checks the same from the other side.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DIAGNOSTIC_CODES, diagnosticsDoc, isDiagnosticCode } from '../../src/diagnostics/codes.js'

const ROOT = resolve(__dirname, '../..')
const SRC = join(ROOT, 'src')
const AREAS =
  'io|input|yaml|events|rule|correlation|filter|cond|config|target|verify|test|bundle|format|output|internal|limit'

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

const sources = sourceFiles(SRC)
  .filter((f) => !f.endsWith(join('diagnostics', 'codes.ts')))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n')

/** Code literals (`'target/unsupported-regex'`) in a text. */
export const codeLiterals = (text: string): string[] => [
  ...new Set([...text.matchAll(new RegExp(`'((?:${AREAS})/[a-z0-9-]+)'`, 'g'))].map((m) => m[1]!)),
]

/** Codes built from a template (`target/unsupported-${construct}`), as patterns. */
const templates = [...sources.matchAll(new RegExp(`\`((?:${AREAS})/[^\`]*\\$\\{[^\`]*)\``, 'g'))].map(
  (m) => new RegExp('^' + m[1]!.replace(/\$\{[^}]*\}/g, '[a-z-]+') + '$'),
)

describe('the diagnostic code table', () => {
  it('holds every code literal written in src/', () => {
    const literals = codeLiterals(sources)
    expect(literals.length).toBeGreaterThan(50)
    expect(literals.filter((c) => !isDiagnosticCode(c))).toEqual([])
  })

  it('has no code that nothing emits', () => {
    const literals = new Set(codeLiterals(sources))
    const dead = Object.keys(DIAGNOSTIC_CODES).filter((c) => !literals.has(c) && !templates.some((t) => t.test(c)))
    expect(dead).toEqual([])
  })

  it('sees a code that is not in the table', () => {
    expect(codeLiterals("error('target/unsupported-number', 'x')").filter((c) => !isDiagnosticCode(c))).toEqual([
      'target/unsupported-number',
    ])
  })

  it('is what docs/diagnostics.md says (regenerate with npm run docs:diagnostics)', () => {
    expect(readFileSync(join(ROOT, 'docs', 'diagnostics.md'), 'utf8')).toBe(diagnosticsDoc())
  })

  it('gives each code an area/kebab-name and a one-line meaning', () => {
    for (const [code, info] of Object.entries(DIAGNOSTIC_CODES)) {
      expect(code).toMatch(new RegExp(`^(${AREAS})/[a-z0-9]+(-[a-z0-9]+)*$`))
      expect(info.meaning).not.toMatch(/\n/)
    }
  })
})
