/** The verifier's grammar and evaluator: the KQL subset, its literals, precedence and null logic. */
import { withOrigin } from '../../src/origin.js'
import { describe, expect, test } from 'vitest'
import { parseKql } from '../../grammars/kql.js'
import { verifier } from '../../src/verify/kql.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { is, rule, PROCESS } from './helpers.js'

const r = rule(is('CommandLine', 'x'), PROCESS)
/** Which of the events the text selects (events in Sigma taxonomy: CommandLine → ProcessCommandLine). */
async function select(where: string, events: JsonEvent[]): Promise<boolean[] | string> {
  const v = await verifier.verify(`DeviceProcessEvents\n| where ${where}`, withOrigin(events, r.logsource))
  return v.matches ? [...v.matches] : v.diagnostics.map((d) => d.code).join(',')
}

describe('parsing', () => {
  test('a query is a table and one or more where stages', () => {
    const p = parseKql('T\n| where a == "x"\n| where b =~ @"c:\\x" or not(c contains \'y\')')
    expect(p.errors).toEqual([])
    expect(p.query!.table).toBe('T')
    expect(p.query!.filters).toHaveLength(2)
    expect(p.query!.filters[1]).toEqual({
      k: 'or',
      items: [
        { k: 'binary', op: '=~', left: { k: 'col', name: 'b' }, right: { k: 'str', value: 'c:\\x' } },
        {
          k: 'not',
          item: { k: 'binary', op: 'contains', left: { k: 'col', name: 'c' }, right: { k: 'str', value: 'y' } },
        },
      ],
    })
  })
  test('and binds tighter than or', () => {
    const p = parseKql('T | where a == "1" or b == "2" and c == "3"')
    expect(p.query!.filters[0]!).toMatchObject({ k: 'or', items: [{ k: 'binary' }, { k: 'and' }] })
  })
  test('string literals: the documented escapes only; verbatim doubles its quote', () => {
    const value = (lit: string) =>
      (parseKql(`T | where a == ${lit}`).query?.filters[0] as { right: { value: string } } | undefined)?.right.value
    expect(value('"a\\"b\\\\c\\td\\ne"')).toBe('a"b\\c\td\ne')
    expect(value("'it\\'s'")).toBe("it's")
    expect(value('@"C:\\Windows\\""x"""')).toBe('C:\\Windows\\"x"')
    expect(value("@'a''b\\'")).toBe("a'b\\")
    for (const bad of ['"\\s"', '"\\r"', '"a\nb"', '"open', '@"x"y"']) {
      expect(parseKql(`T | where a == ${bad}`).errors.length, bad).toBeGreaterThan(0)
    }
  })
  test('operators and functions of the subset; anything else is a parse error', () => {
    expect(
      parseKql(
        'T | where a in~ ("x", "y") and b !in ("z") and c matches regex @"^a" and isempty(d) and e !startswith_cs "q"',
      ).errors,
    ).toEqual([])
    expect(parseKql('T | where a has "x"').errors.length).toBeGreaterThan(0)
    expect(parseKql('T | project a').errors.length).toBeGreaterThan(0)
    expect(parseKql('T').errors.length).toBeGreaterThan(0)
  })
  test('a parse failure is a verify/parse diagnostic, not an exception', async () => {
    expect(await select('ProcessCommandLine == "\\q"', [{}])).toMatch(/^verify\/parse/)
    expect(await select('ProcessCommandLine has "x"', [{}])).toMatch(/^verify\/parse/)
  })
})

describe('evaluation follows the documented semantics', () => {
  const E: JsonEvent[] = [
    { CommandLine: 'Hello World' },
    { CommandLine: 'HELLO' },
    { CommandLine: 'héllo' },
    { CommandLine: 'HÉLLO' },
    {},
  ]
  test('=~ and the string operators fold ASCII only; == and _cs are exact', async () => {
    expect(await select('ProcessCommandLine =~ "hello"', E)).toEqual([false, true, false, false, false])
    expect(await select('ProcessCommandLine =~ "héllo"', E)).toEqual([false, false, true, false, false])
    expect(await select('ProcessCommandLine == "HELLO"', E)).toEqual([false, true, false, false, false])
    expect(await select('ProcessCommandLine contains "world"', E)).toEqual([true, false, false, false, false])
    expect(await select('ProcessCommandLine contains_cs "world"', E)).toEqual([false, false, false, false, false])
    expect(await select('ProcessCommandLine startswith "hel"', E)).toEqual([true, true, false, false, false])
    expect(await select('ProcessCommandLine endswith_cs "LO"', E)).toEqual([false, true, false, true, false])
    expect(await select('ProcessCommandLine !contains "o"', E)).toEqual([false, false, false, false, true])
    expect(await select('ProcessCommandLine in~ ("hello", "x")', E)).toEqual([false, true, false, false, false])
    expect(await select('ProcessCommandLine in ("hello")', E)).toEqual([false, false, false, false, false])
  })
  test('a missing string is "": isempty is true, contains is false, not(contains) is true', async () => {
    expect(
      await select('isempty(ProcessCommandLine)', [
        {},
        { CommandLine: null },
        { CommandLine: '' },
        { CommandLine: 'x' },
      ]),
    ).toEqual([true, true, true, false])
    expect(await select('not(ProcessCommandLine contains "x")', [{}, { CommandLine: 'x' }])).toEqual([true, false])
  })
  test('matches regex is an unanchored RE2 search; (?i) folds Unicode', async () => {
    expect(await select('ProcessCommandLine matches regex "o W"', E)).toEqual([true, false, false, false, false])
    expect(await select('ProcessCommandLine matches regex @"(?i)^HÉ"', E)).toEqual([false, false, true, true, false])
    expect(await select('ProcessCommandLine matches regex @"^.$"', [{ CommandLine: '😀' }])).toEqual([true])
  })
  test('null logic on numeric columns: == with null is false, < is null, not(null) is null, or is Kleene', async () => {
    const N: JsonEvent[] = [{ ProcessId: 5 }, {}]
    expect(await select('ProcessId == 5', N)).toEqual([true, false])
    expect(await select('not(ProcessId == 5)', N)).toEqual([false, true])
    expect(await select('ProcessId != 5', N)).toEqual([false, true])
    expect(await select('not(ProcessId < 9)', N)).toEqual([false, false])
    expect(await select('ProcessId < 9 or isnull(ProcessId)', N)).toEqual([true, true])
    expect(await select('not(isnotnull(ProcessId) and ProcessId < 9)', N)).toEqual([false, true])
    expect(await select('tostring(ProcessId) == ""', N)).toEqual([false, true])
  })
  test('ipv4_is_in_range: null when the address does not parse', async () => {
    const r2 = rule(is('DestinationIp', 'x'), { product: 'windows', category: 'network_connection' })
    const v = await verifier.verify(
      'DeviceNetworkEvents\n| where not(ipv4_is_in_range(RemoteIP, "10.0.0.0/8"))',
      withOrigin(
        [{ DestinationIp: '10.1.1.1' }, { DestinationIp: '11.1.1.1' }, { DestinationIp: 'x' }, {}],
        r2.logsource,
      ),
    )
    expect(v.matches).toEqual([false, true, false, false])
  })
  test('strong typing: a string column against a number is an error, not a match', async () => {
    expect(await select('ProcessCommandLine == 5', [{}])).toBe('verify/parse')
    expect(await select('NoColumn == "x"', [{}])).toBe('verify/parse')
    expect(await select('frobnicate(ProcessCommandLine)', [{}])).toBe('verify/parse')
  })
  test('a query reads only the rows of its table: process creations are not file events', async () => {
    const events = [
      { Image: 'C:\\W\\x', _logsource: { product: 'windows', category: 'process_creation' } },
      { TargetFilename: 'C:\\W\\x', _logsource: { product: 'windows', category: 'file_event' } },
    ]
    const v = await verifier.verify('DeviceFileEvents\n| where FileName == "x"', events)
    expect(v.diagnostics).toEqual([])
    expect(v.matches).toEqual([false, true])
  })
  test('a table the schema does not have is verify/table', async () => {
    const v = await verifier.verify('DeviceFileEventz\n| where FileName == "x"', withOrigin([{}], r.logsource))
    expect(v.diagnostics[0]!.code).toBe('verify/table')
  })
  test('Image maps to FolderPath (full path) and FileName (last \\ segment, "" without one)', async () => {
    const ev: JsonEvent[] = [{ Image: 'C:\\W\\cmd.exe' }, { Image: 'cmd.exe' }, { Image: 'C:\\W\\' }]
    expect(await select('FileName == "cmd.exe"', ev)).toEqual([true, false, false])
    expect(await select('FolderPath == "cmd.exe"', ev)).toEqual([false, true, false])
    expect(await select('isempty(FileName)', ev)).toEqual([false, true, true])
  })
})
