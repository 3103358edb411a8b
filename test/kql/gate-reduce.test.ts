/**
 * The KQL gate checks a long query in a reduced form first (src/verify/kql-gate-reduce.ts): the
 * reduced query must lead to the same verdict as the whole one, and an error anywhere in the
 * whole query must still be found, at its place in the emitted text.
 */
import { describe, expect, test } from 'vitest'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { checkKql, gateReduction } from '../../src/verify/kql-parser.js'
import { joinInGroups } from '../../src/passes/balance.js'
import { loadFile } from '../../src/rule/load.js'
import { compile } from '../../src/api.js'

/** A query of `n` terms grouped as the backend groups long lists; `term(i)` writes the i-th. */
const listQuery = (n: number, term: (i: number) => string) =>
  'DeviceProcessEvents\n| where ' +
  joinInGroups(
    Array.from({ length: n }, (_, i) => term(i)),
    ' or ',
    64,
  )
const contains = (i: number) => `ProcessCommandLine contains "v${i}\\\\x"`
/** Always reduce, whatever the query's length. */
const reduced = { reduceFrom: 0 }

describe('the reduced query', () => {
  test('keeps two copies of a repeated term in each group, and two groups of a shape', () => {
    // 300 terms in five groups: the first group is part of `where …` and the last of the end of
    // the text, so neither is a droppable operand; of the three between, two are kept.
    const short = gateReduction(listQuery(300, contains))
    expect(short).toBeDefined()
    expect(short!.match(/ProcessCommandLine contains/g)).toHaveLength(8)
    expect(short).toContain('(ProcessCommandLine contains "v0\\\\x" or ProcessCommandLine contains "v1\\\\x")')
    expect(short).not.toContain('"v2\\\\x"')
    expect(short).not.toContain('"v192\\\\x"')
    expect(short).toContain('"v256\\\\x"')
  })

  test('trims a string list after in~ and keeps function arguments whole', () => {
    const list = Array.from({ length: 50 }, (_, i) => `"n${i}.exe"`).join(', ')
    const query = `DeviceProcessEvents\n| where FileName in~ (${list}) and ProcessCommandLine == strcat("a", "b", "c", "d")`
    const short = gateReduction(query)
    expect(short).toBe(
      'DeviceProcessEvents\n| where FileName in~ ("n0.exe", "n1.exe") and ProcessCommandLine == strcat("a", "b", "c", "d")',
    )
  })

  test('drops nothing that is not a plain repeated comparison', () => {
    const query = listQuery(10, (i) => `ProcessCommandLine matches regex "a${i}"`)
    expect(gateReduction(query)).toBeUndefined()
  })
})

describe('the same verdict as the whole query', () => {
  test('a long valid list passes both ways', async () => {
    const query = listQuery(300, contains)
    expect(await checkKql(query, 'defender', reduced)).toEqual([])
    expect(await checkKql(query, 'defender', { reduceFrom: Infinity })).toEqual([])
  })

  const poisons: [string, (i: number) => string][] = [
    ['an unknown column', (i) => (i === 173 ? `ProcessCommandLin contains "v${i}"` : contains(i))],
    ['another operator on a number column', (i) => (i === 173 ? `ProcessId contains "v${i}"` : contains(i))],
    ['a bad escape', (i) => (i === 173 ? `ProcessCommandLine contains "v\\q${i}"` : contains(i))],
    ['an unterminated string', (i) => (i === 299 ? `ProcessCommandLine contains "v${i}` : contains(i))],
    ['a wrong arity', (i) => (i === 173 ? `ProcessCommandLine contains strcat()` : contains(i))],
    ['an unknown column in an equality chain', (i) => (i === 201 ? `FileNam == "x"` : `FileName == "f${i}.exe"`)],
  ]
  test.each(poisons)('an error in one of 300 terms is found where it is: %s', async (_, term) => {
    const query = listQuery(300, term)
    const whole = await checkKql(query, 'defender', { reduceFrom: Infinity })
    expect(whole).not.toEqual([])
    expect(await checkKql(query, 'defender', reduced)).toEqual(whole)
  })

  test("the rule pack's Windows KQL queries: the same diagnostics reduced and whole", async () => {
    const dir = 'rules/windows/process_creation'
    const queries = readdirSync(dir)
      .filter((f) => f.endsWith('.yml') && !f.endsWith('.tests.yml'))
      .flatMap((f) => loadFile(join(dir, f)).rules)
      .map((rule) => compile(rule, 'kql'))
    let compared = 0
    for (const c of await Promise.all(queries)) {
      if (c.query === undefined) continue
      compared++
      expect(await checkKql(c.query, 'defender', reduced)).toEqual(
        await checkKql(c.query, 'defender', { reduceFrom: Infinity }),
      )
    }
    expect(compared).toBeGreaterThan(5)
  })
})
