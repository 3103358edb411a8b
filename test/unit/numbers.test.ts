import { describe, expect, it } from 'vitest'
import { evaluate } from '../../src/evaluate/evaluate.js'
import { pythonText, readYaml11 } from '../../src/rule/yaml11.js'
import { diagnosticsOf, rule } from '../support/rules.js'

describe('values keep the text their author wrote', () => {
  // registry_set_susp_keyboard_layout_load.yml: `Details|contains: 00000429` is a keyboard layout
  // id, not the number 429 (which would also match 00010429).
  it.each([
    ['00000429', '00000429', '00010429'],
    ['0x10', 'x=0x10;', 'x=16;'],
    ['1e3', 'a1e3b', 'a1000b'],
    ['010', 'v010', 'v10 v8'],
    ['+5', 'n=+5', 'n=5'],
    ['1.50', 'ver 1.50', 'ver 1.5'],
  ])('%s matches its own text and not the number it spells', (written, hit, miss) => {
    const r = rule(`  sel:\n    Details|contains: ${written}\n  condition: sel`)
    expect(evaluate(r.detection, { Details: hit })).toBe(true)
    expect(evaluate(r.detection, { Details: miss })).toBe(false)
  })

  it('canonical numbers stay numbers (EventID: 4688 matches the integer and its text)', () => {
    const r = rule(`  sel:\n    EventID: 4688\n  condition: sel`)
    expect(evaluate(r.detection, { EventID: 4688 })).toBe(true)
    expect(evaluate(r.detection, { EventID: '4688' })).toBe(true)
  })

  it('comparisons still read numbers: |gt 0x10 is 16', () => {
    const r = rule(`  sel:\n    Count|gt: 0x10\n  condition: sel`)
    expect(evaluate(r.detection, { Count: 17 })).toBe(true)
    expect(evaluate(r.detection, { Count: 16 })).toBe(false)
  })
})

describe('YAML 1.1 vs 1.2 readings are warned about', () => {
  const warnings = (value: string) =>
    diagnosticsOf(`  sel:\n    Details: ${value}\n  condition: sel`)
      .filter((d) => d.code === 'rule/yaml-version-ambiguity')
      .map((d) => d.message)

  it.each([
    ['010', '8'],
    ['0x10', '16'],
    ['+5', '5'],
    ['yes', 'True'],
    ['off', 'False'],
    ['1_000', '1000'],
    ['1:30', '90'],
  ])('%s (YAML 1.1 reads %s)', (value, old) => {
    expect(warnings(value)).toEqual([expect.stringContaining(`read ${value} as ${old}`)])
  })

  it.each(['4688', '00000429', '1e3', "'010'", '"yes"', 'true', 'null', 'cmd.exe', '1.5'])(
    '%s reads the same in both',
    (value) => {
      expect(warnings(value)).toEqual([])
    },
  )

  it('points at the value', () => {
    const d = diagnosticsOf(`  sel:\n    Details:\n      - a\n      - 010\n  condition: sel`).find(
      (x) => x.code === 'rule/yaml-version-ambiguity',
    )
    expect(d?.at).toEqual({ line: 10, col: 8 }) // 0-based: the second list item
  })
})

describe('the YAML 1.1 resolver (PyYAML implicit resolvers)', () => {
  it.each<[string, boolean | number | null | undefined]>([
    ['0o10', undefined],
    ['0b101', 5],
    ['-010', -8],
    ['0x_1F', 31],
    ['190:20:30', 685230],
    ['1.5', 1.5],
    ['.inf', Infinity],
    ['~', null],
    ['y', undefined],
    ['On', true],
    ['00000429', undefined],
    ['1e3', undefined],
    ['1.0e+3', 1000],
  ])('%s → %s', (text, value) => {
    expect(readYaml11(text)).toBe(value)
  })
  it('prints values as Python str() does', () => {
    expect([true, null, 8, -Infinity].map(pythonText)).toEqual(['True', 'None', '8', '-inf'])
  })
})
