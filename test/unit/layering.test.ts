/**
 * The proof's independence, as imports: a verifier reads only query text and events, so nothing in
 * src/verify imports src/backends (or the reference evaluator), and no backend imports a verifier.
 * The proof harness (src/proof) is the one place that holds both.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

/** Every module specifier a TypeScript file imports (static and dynamic). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from|import\()\s*'([^']+)'/g)].map((m) => m[1]!)
}

function offending(dir: string, forbidden: RegExp, only: RegExp = /\.ts$/): string[] {
  return readdirSync(join(SRC, dir))
    .filter((f) => only.test(f))
    .flatMap((f) => imports(join(SRC, dir, f)).flatMap((i) => (forbidden.test(i) ? [`${dir}/${f} imports ${i}`] : [])))
}

describe('layering', () => {
  it('src/verify imports nothing from src/backends, src/proof or the reference evaluator', () => {
    expect(offending('verify', /(^|\/)(backends|proof|evaluate)\//)).toEqual([])
  })
  it('the correlation verifiers (src/correlation/*-verify.ts) import no backend, proof, reference or compiler', () => {
    const verifiers = readdirSync(join(SRC, 'correlation')).filter((f) => f.endsWith('-verify.ts'))
    expect(verifiers.length).toBeGreaterThanOrEqual(3)
    // Siblings other than targets.ts (the CorrelationVerified type) are compilers, loaders or the reference.
    expect(
      offending('correlation', /(^|\/)(backends|proof|evaluate)\/|^\.\/(?!targets\.js$)[^/]*$/, /-verify\.ts$/),
    ).toEqual([])
  })
  it('src/backends imports no verifier and no proof harness', () => {
    expect(offending('backends', /(^|\/)(verify|proof)\//)).toEqual([])
  })
  it('the check fails on a forbidden import (the pattern is live)', () => {
    expect(/(^|\/)(backends|proof|evaluate)\//.test('../backends/spl-env.js')).toBe(true)
    // A correlation verifier that reached for the compiler next to it would be caught.
    expect(/^\.\/(?!targets\.js$)[^/]*$/.test('./kql.js')).toBe(true)
    expect(/^\.\/(?!targets\.js$)[^/]*$/.test('./targets.js')).toBe(false)
    expect(imports(fileURLToPath(new URL('./layering.test.ts', import.meta.url)))).toContain('vitest')
  })
})
