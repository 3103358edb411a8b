import { describe, expect, it } from 'vitest'
import * as rulesmith from '../../src/index.js'

describe('library API', () => {
  it('exposes loading, compiling, validating, evaluating and bundling', async () => {
    const { rules, diagnostics } = rulesmith.loadRuleText(
      `title: t
id: 7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6
logsource: { product: windows, category: process_creation }
detection:
    sel: { Image|endswith: '\\sc.exe', CommandLine|contains: ' stop ' }
    condition: sel
`,
      'inline.yml',
    )
    expect(diagnostics).toEqual([])
    const rule = rules[0]!
    expect(
      rulesmith.evaluate(rule.detection, { Image: 'C:\\Windows\\System32\\SC.EXE', CommandLine: 'sc stop x' }),
    ).toBe(true)
    const compiled = await rulesmith.compile(rule, 'kql')
    expect(compiled.query).toMatch(/^DeviceProcessEvents/)
    expect(typeof rulesmith.validate).toBe('function')
    expect(typeof rulesmith.buildBundle).toBe('function')
    expect(rulesmith.TARGET_IDS).toEqual(['spl', 'kql', 'eql', 'osquery'])
  })
})
