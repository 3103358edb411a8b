/**
 * Counterexamples found by the hostile fuzzing (input-fuzz.test.ts), each kept by name with the
 * smallest rule and events fast-check shrank it to.
 */
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import { loadVerifier } from '../../src/verify/index.js'
import { loadRuleText } from '../../src/rule/load.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'

const ruleWith = (selection: string) => {
  const loaded = loadRuleText(
    `title: fuzz\nid: 0f0e0d0c-1111-4222-8333-944455556666\nstatus: test\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel0:\n    ${selection}\n  condition: sel0\nlevel: low\n`,
    'rules/fuzz.yml',
  )
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return loaded.rules[0]!
}

describe('hostile fuzzing regressions', () => {
  it('osquery: a NUL in an event value is unrepresentable (osquery text columns are C strings), not a mismatch', async () => {
    // Found with seed 20261203: "CommandLine|contains|cased": ["a"] and the event "\u0000aaa". sql.js
    // ends a bound string at the NUL, as osquery's columns would; the reference sees "aaa".
    const rule = ruleWith('"CommandLine|contains|cased": ["a"]')
    const events = [{ CommandLine: '\u0000aaa' }, { CommandLine: 'xax' }]
    const eq = await checkEquivalence(rule, events, await loadBackend('osquery'), await loadVerifier('osquery'))
    expect(eq.query).toBeDefined()
    expect(eq.mismatches).toEqual([])
    expect(eq.unrepresentable).toEqual([0])
    expect(eq.actual?.[1]).toBe(true)
  })
})
