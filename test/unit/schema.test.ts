import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateValidatorSource } from '../../src/rule/schema-codegen.js'
import validate from '../../src/rule/schema-validate.generated.js'

describe('rule schema validator', () => {
  it('is generated from the current schema (run scripts/generate-schema-validator.mjs)', () => {
    const onDisk = readFileSync(new URL('../../src/rule/schema-validate.generated.ts', import.meta.url), 'utf8')
    expect(onDisk).toBe(generateValidatorSource())
  })

  it('accepts a minimal rule and rejects a rule without logsource or with a long title', () => {
    const ok = { title: 't', logsource: { product: 'windows' }, detection: { condition: 'x', x: { a: 1 } } }
    expect(validate(ok)).toBe(true)
    expect(validate({ title: 't', detection: { condition: 'x' } })).toBe(false)
    expect(validate({ ...ok, title: 'x'.repeat(257) })).toBe(false)
    expect(validate({ ...ok, tags: ['attack.t1489', 'attack.t1489'] })).toBe(false)
  })
})
