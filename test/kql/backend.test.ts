/** The kql backend: exact emitted text for every node kind and shape, and every refusal. */
import { describe, expect, test } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backend } from '../../src/backends/kql.js'
import { and, not, or, type Node } from '../../src/ast/nodes.js'
import type { LogSource } from '../../src/rule/rule.js'
import type { TargetOptions } from '../../src/backends/types.js'
import { contains, endswith, is, match, pat, rule, startswith } from './helpers.js'

const where = (detection: Node, logsource?: LogSource, options?: TargetOptions): string => {
  const c = backend.compile(rule(detection, logsource), options)
  expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return c
    .query!.split('\n')
    .at(-1)!
    .replace(/^\| where /, '')
}
const refusal = (detection: Node, logsource?: LogSource, options?: TargetOptions) => {
  const c = backend.compile(rule(detection, logsource), options)
  expect(c.query).toBeUndefined()
  const e = c.diagnostics.find((d) => d.severity === 'error')!
  expect(e.target).toBe('kql')
  expect(e.file).toBe('rules/test.yml')
  expect(e.message).toMatch(/^kql/)
  return e
}
const SECURITY: LogSource = { product: 'windows', service: 'security' }
const SENTINEL: TargetOptions = { variant: 'sentinel' }
const NETWORK: LogSource = { product: 'windows', category: 'network_connection' }

describe('string matches (Defender, DeviceProcessEvents)', () => {
  test('a whole value: =~, or == with |cased', () => {
    expect(where(is('CommandLine', 'whoami /all'))).toBe('ProcessCommandLine =~ "whoami /all"')
    expect(where(is('CommandLine', 'whoami', true))).toBe('ProcessCommandLine == "whoami"')
  })
  test('contains / startswith / endswith, and their _cs forms; never has', () => {
    expect(where(contains('CommandLine', ' -enc '))).toBe('ProcessCommandLine contains " -enc "')
    expect(where(contains('CommandLine', 'X', true))).toBe('ProcessCommandLine contains_cs "X"')
    expect(where(startswith('CommandLine', 'net '))).toBe('ProcessCommandLine startswith "net "')
    expect(where(startswith('CommandLine', 'net ', true))).toBe('ProcessCommandLine startswith_cs "net "')
    expect(where(endswith('CommandLine', '.ps1'))).toBe('ProcessCommandLine endswith ".ps1"')
    expect(where(endswith('CommandLine', '.ps1', true))).toBe('ProcessCommandLine endswith_cs ".ps1"')
  })
  test('Image: the full path in FolderPath; a trailing \\name is the FileName column', () => {
    expect(where(endswith('Image', '\\sc.exe'))).toBe('FileName =~ "sc.exe"')
    expect(where(endswith('Image', '\\sc.exe', true))).toBe('FileName == "sc.exe"')
    expect(where(endswith('Image', '\\System32\\sc.exe'))).toBe('FolderPath endswith @"\\System32\\sc.exe"')
    expect(where(is('Image', 'C:\\Windows\\sc.exe'))).toBe('FolderPath =~ @"C:\\Windows\\sc.exe"')
    expect(where(endswith('ParentImage', '\\explorer.exe'))).toBe('InitiatingProcessFileName =~ "explorer.exe"')
  })
  test('a list of whole values or file names is one in~ (in with |cased)', () => {
    expect(where(or([is('CommandLine', 'a'), is('CommandLine', 'b'), is('CommandLine', 'a')]))).toBe(
      'ProcessCommandLine in~ ("a", "b")',
    )
    expect(where(or([is('CommandLine', 'a', true), is('CommandLine', 'b', true)]))).toBe(
      'ProcessCommandLine in ("a", "b")',
    )
    expect(where(or([endswith('Image', '\\a.exe'), endswith('Image', '\\b.exe'), contains('CommandLine', 'x')]))).toBe(
      'FileName in~ ("a.exe", "b.exe") or ProcessCommandLine contains "x"',
    )
  })
  test('wildcards inside a value: an anchored RE2 regex, ASCII letters as [Aa] classes (never (?i)), (?s)', () => {
    expect(where(match('CommandLine', pat('a*b')))).toBe('ProcessCommandLine matches regex @"(?s)^[Aa].*[Bb]$"')
    expect(where(match('CommandLine', pat('a?b'), true))).toBe('ProcessCommandLine matches regex @"(?s)^a.b$"')
    expect(where(match('CommandLine', pat('*.exe?x*')))).toBe(
      'ProcessCommandLine matches regex @"(?s)^.*\\.[Ee][Xx][Ee].[Xx].*$"',
    )
  })
  test('literal * ? and regex metacharacters are escaped inside the regex', () => {
    expect(where(match('CommandLine', pat('a\\*b*(c)[d]{e}|$^')))).toBe(
      'ProcessCommandLine matches regex @"(?s)^[Aa]\\*[Bb].*\\([Cc]\\)\\[[Dd]\\]\\{[Ee]\\}\\|\\$\\^$"',
    )
    expect(where(is('CommandLine', 'a*b?'))).toBe('ProcessCommandLine =~ "a*b?"')
  })
  test('string literals: \\\\ and \\" escapes, verbatim @"…" for backslashes, doubled quotes there', () => {
    expect(where(is('CommandLine', 'say "hi"'))).toBe('ProcessCommandLine =~ "say \\"hi\\""')
    expect(where(is('CommandLine', "it's"))).toBe('ProcessCommandLine =~ "it\'s"')
    expect(where(is('CommandLine', 'C:\\a "b"'))).toBe('ProcessCommandLine =~ @"C:\\a ""b"""')
    expect(where(endswith('CommandLine', 'dir\\'))).toBe('ProcessCommandLine endswith @"dir\\"')
    expect(where(is('CommandLine', 'a\tb\\c\nd'))).toBe('ProcessCommandLine =~ "a\\tb\\\\c\\nd"')
  })
  test('characters no literal can hold (CR, other controls) go through the regex with \\x{…}', () => {
    expect(where(contains('CommandLine', 'a\rb'))).toBe('ProcessCommandLine matches regex @"(?s)^.*[Aa]\\x{D}[Bb].*$"')
    expect(where(is('CommandLine', '\u0001'))).toBe('ProcessCommandLine matches regex @"^\\x{1}$"')
  })
  test('non-ASCII cased letters: compared exactly by a regex, not leaning on =~ beyond ASCII', () => {
    expect(where(contains('CommandLine', 'Été'))).toBe('ProcessCommandLine matches regex @"(?s)^.*É[Tt]é.*$"')
    expect(where(contains('CommandLine', 'Été', true))).toBe('ProcessCommandLine contains_cs "Été"')
    expect(where(contains('CommandLine', '日本'))).toBe('ProcessCommandLine contains "日本"')
  })
})

describe('logon ids (Defender stores LogonId as a long, Windows writes 0x3e7)', () => {
  test('the canonical hex text is the number, in either case unless |cased', () => {
    expect(where(is('LogonId', '0x3e7'))).toBe('LogonId == 999')
    expect(where(is('LogonId', '0X3E7'))).toBe('LogonId == 999')
    expect(where(is('LogonId', '0x529ae3', true))).toBe('LogonId == 5413603')
  })
  test('anything else has no one-to-one counterpart in the column: refused', () => {
    for (const n of [
      is('LogonId', '0x03e7'),
      is('LogonId', '999'),
      contains('LogonId', '3e7'),
      is('LogonId', '0X3E7', true),
    ])
      expect(refusal(n).code).toBe('target/unsupported-match')
  })
})

describe('boolean structure', () => {
  test('and binds tighter than or; an or inside an and is parenthesised; not() is a call', () => {
    expect(
      where(and([or([contains('CommandLine', 'a'), contains('CommandLine', 'b')]), contains('CommandLine', 'c')])),
    ).toBe('(ProcessCommandLine contains "a" or ProcessCommandLine contains "b") and ProcessCommandLine contains "c"')
    expect(
      where(or([and([contains('CommandLine', 'a'), contains('CommandLine', 'b')]), contains('CommandLine', 'c')])),
    ).toBe('ProcessCommandLine contains "a" and ProcessCommandLine contains "b" or ProcessCommandLine contains "c"')
    expect(where(not(or([contains('CommandLine', 'a'), contains('CommandLine', 'b')])))).toBe(
      'not(ProcessCommandLine contains "a" or ProcessCommandLine contains "b")',
    )
  })
})

describe('regex, cidr, numbers, presence', () => {
  const re = (source: string, flags = { i: false, m: false, s: false }): Node => ({
    kind: 'Regex',
    field: 'CommandLine',
    source,
    flags,
    at: { line: 7, col: 8 },
  })
  test('a Sigma regex is translated to RE2', () => {
    expect(where(re('a\\d+\\.exe$'))).toBe('ProcessCommandLine matches regex @"a\\d+\\.exe$"')
    expect(where(re('(x|y)z', { i: true, m: false, s: false }))).toBe(
      'ProcessCommandLine matches regex @"(?:[Xx]|[Yy])[Zz]"',
    )
    // One `.` between literals matches one JavaScript unit: never a whole emoji (two units).
    expect(where(re('a.b'))).toBe(
      'ProcessCommandLine matches regex @"a[^\\n\\r\\x{2028}\\x{2029}\\x{10000}-\\x{10FFFF}]b"',
    )
    expect(where(re('a.b', { i: false, m: false, s: true }))).toBe(
      'ProcessCommandLine matches regex @"a[\\x{0}-\\x{FFFF}]b"',
    )
    // Repeated, or at a free edge of the unanchored pattern, it reads whole code points.
    expect(where(re('a.*b'))).toBe('ProcessCommandLine matches regex @"a[^\\n\\r\\x{2028}\\x{2029}]*b"')
    expect(where(re('a.', { i: false, m: false, s: true }))).toBe('ProcessCommandLine matches regex @"a(?s:.)"')
    expect(where(re('\\S+\\s'))).toContain('matches regex @"[^\\t\\n')
    expect(where(re('"q"'))).toBe('ProcessCommandLine matches regex @"""q"""')
  })
  test('lookaround, backreferences and multi-line anchors are refused', () => {
    for (const [src, flags] of [
      ['a(?=b)', {}],
      ['(?<!a)b', {}],
      ['(a)\\1', {}],
      ['^a', { m: true }],
      ['a..b', {}],
      ['a.{2}', {}],
      ['(a|.)+b', {}],
    ] as const) {
      const e = refusal(re(src, { i: false, m: false, s: false, ...flags }))
      expect(e.code).toBe('target/unsupported-regex')
      expect(e.at).toEqual({ line: 7, col: 8 })
    }
  })
  test('a counted `.` between two literals is spelt out in UTF-16 lengths: two BMP characters or one emoji', () => {
    const bmp = '[^\\n\\r\\x{2028}\\x{2029}\\x{10000}-\\x{10FFFF}]'
    expect(where(re('a.{2}b', { i: false, m: false, s: false }))).toBe(
      `ProcessCommandLine matches regex @"a(?:${bmp}(?:${bmp})|[\\x{10000}-\\x{10FFFF}])b"`,
    )
  })
  test('a regex that matches the empty string is refused (empty and missing are one in KQL)', () => {
    expect(refusal(re('x*')).code).toBe('target/unsupported-empty-value')
  })
  test('CIDR: ipv4_is_in_range / ipv6_is_in_range behind a strict address check', () => {
    expect(where({ kind: 'Cidr', field: 'DestinationIp', cidr: '10.0.0.0/8', family: 4 }, NETWORK)).toBe(
      '(RemoteIP matches regex @"^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$" and ipv4_is_in_range(RemoteIP, "10.0.0.0/8"))',
    )
    const v6 = where({ kind: 'Cidr', field: 'DestinationIp', cidr: 'fe80::/10', family: 6 }, NETWORK)
    expect(v6.startsWith('(RemoteIP matches regex @"^(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|')).toBe(true)
    expect(v6.endsWith(')$" and ipv6_is_in_range(RemoteIP, "fe80::/10"))')).toBe(true)
  })
  test('numbers: == on numeric columns, comparisons guarded by isnotnull, tostring() for patterns', () => {
    expect(where(is('EventID', '4624'), SECURITY, SENTINEL)).toBe('EventID == 4624')
    expect(where(match('EventID', pat('46*')), SECURITY, SENTINEL)).toBe('tostring(EventID) startswith "46"')
    expect(where(is('EventID', '04624'), SECURITY, SENTINEL)).toBe('tostring(EventID) =~ "04624"')
    expect(where({ kind: 'Compare', field: 'LogonType', op: 'gte', value: 3 }, SECURITY, SENTINEL)).toBe(
      '(isnotnull(LogonType) and LogonType >= 3)',
    )
    expect(where({ kind: 'Compare', field: 'DestinationPort', op: 'lt', value: 1024.5 }, NETWORK)).toBe(
      '(isnotnull(RemotePort) and RemotePort < 1024.5)',
    )
    expect(refusal({ kind: 'Compare', field: 'CommandLine', op: 'gt', value: 1 }).code).toBe(
      'target/unsupported-compare',
    )
  })
  test('exists / null: isnotnull / isnull on numeric columns; refused on strings', () => {
    expect(where({ kind: 'Exists', field: 'ProcessId' })).toBe('isnotnull(ProcessId)')
    expect(where({ kind: 'Null', field: 'ProcessId' })).toBe('isnull(ProcessId)')
    expect(refusal({ kind: 'Exists', field: 'CommandLine' }).code).toBe('target/unsupported-exists')
    expect(refusal({ kind: 'Null', field: 'CommandLine' }).code).toBe('target/unsupported-null')
  })
  test('field references: numeric columns compare with ==; string columns are refused', () => {
    expect(where({ kind: 'FieldRef', field: 'ProcessId', ref: 'ParentProcessId', cased: false })).toBe(
      '(isnotnull(ProcessId) and isnotnull(InitiatingProcessId) and ProcessId == InitiatingProcessId)',
    )
    expect(refusal({ kind: 'FieldRef', field: 'Image', ref: 'ParentImage', cased: true }).code).toBe(
      'target/unsupported-fieldref',
    )
  })
  test('a value with a lone surrogate (no UTF-8 text can hold it) is refused', () => {
    expect(refusal(contains('CommandLine', 'a\ud800b')).code).toBe('target/unsupported-value')
    expect(where(contains('CommandLine', 'a\ud83d\ude00b'))).toBe('ProcessCommandLine contains "a😀b"')
  })
  test('keywords and empty values are refused', () => {
    expect(refusal({ kind: 'Keyword', pattern: pat('*evil*'), cased: false, at: { line: 3, col: 6 } })).toMatchObject({
      code: 'target/unsupported-keyword',
      at: { line: 3, col: 6 },
    })
    expect(refusal(is('CommandLine', '')).code).toBe('target/unsupported-empty-value')
    expect(refusal(match('CommandLine', pat('*'))).code).toBe('target/unsupported-empty-value')
  })
})

describe('environment', () => {
  test('an unknown field is refused, at the node, naming the table', () => {
    const e = refusal(is('NoSuchField', 'x'))
    expect(e).toMatchObject({ code: 'target/unknown-field', at: { line: 5, col: 4 } })
    expect(e.message).toContain('DeviceProcessEvents')
  })
  test('a column name of the table may be used directly', () => {
    expect(where(is('DeviceName', 'host1'))).toBe('DeviceName =~ "host1"')
  })
  test('an unsupported log source lists the supported ones', () => {
    const e = refusal(is('x', 'y'), { product: 'okta', service: 'okta' })
    expect(e.code).toBe('target/unsupported-logsource')
    expect(e.message).toContain('windows/process_creation → DeviceProcessEvents')
    // A log source only the other family has: the message says which.
    expect(refusal(is('EventID', '4624'), { product: 'windows', service: 'security' }).message).toContain(
      '(the sentinel schema family has it: --variant defender,sentinel)',
    )
  })
  test('nested and one-item and/or are emitted flat, so lists still become in~', () => {
    const nested: Node = {
      kind: 'Or',
      items: [
        { kind: 'Or', items: [is('CommandLine', 'a'), is('CommandLine', 'b')] },
        { kind: 'And', items: [is('CommandLine', 'c')] },
      ],
    }
    expect(where(nested)).toBe('ProcessCommandLine in~ ("a", "b", "c")')
  })
  test('Sentinel: process creation is SecurityEvent 4688, the log source condition first', () => {
    const c = backend.compile(rule(and([endswith('Image', '\\sc.exe'), contains('CommandLine', 'stop')])), {
      variant: 'sentinel',
    })
    expect(c.query).toBe(
      'SecurityEvent\n| where EventID == 4688\n| where NewProcessName endswith @"\\sc.exe" and CommandLine contains "stop"',
    )
    expect(c.context).toMatchObject({ variant: 'sentinel', table: 'SecurityEvent', hostColumn: 'Computer' })
  })
  test('a field fixed by the log source conditions is refused', () => {
    expect(refusal(is('EventID', '1'), undefined, { variant: 'sentinel' }).code).toBe('target/unsupported-field')
  })
  test('an approximate rename compiles with a warning', () => {
    const c = backend.compile(rule(is('User', 'bob')))
    expect(c.query).toContain('AccountName =~ "bob"')
    expect(c.diagnostics).toEqual([
      expect.objectContaining({ code: 'target/approximate-field', severity: 'warning', target: 'kql' }),
    ])
  })
  test('a user pipeline adds a log source and overrides a field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kql-pipeline-'))
    const file = join(dir, 'p.yml')
    writeFileSync(
      file,
      'fields:\n  Hostname: DeviceName\nlogsources:\n  my-ps:\n    match: { product: windows, category: ps_script }\n    table: DeviceEvents\n    conditions: { ActionType: PowerShellCommand }\n    fields: { ScriptBlockText: ProcessCommandLine }\n',
    )
    const c = backend.compile(
      rule(and([contains('ScriptBlockText', 'iex'), is('Hostname', 'h')]), {
        product: 'windows',
        category: 'ps_script',
      }),
      { pipeline: file },
    )
    expect(c.query).toBe(
      'DeviceEvents\n| where ActionType == "PowerShellCommand"\n| where ProcessCommandLine contains "iex" and DeviceName =~ "h"',
    )
    writeFileSync(file, 'logsources:\n  bad:\n    match: { product: windows }\n    table: NoTable\n')
    const bad = backend.compile(rule(is('CommandLine', 'x')), { pipeline: join(dir, 'p.yml'), variant: 'sentinel' })
    expect(bad.diagnostics[0]).toMatchObject({ code: 'config/pipeline' })
  })
  test('an unknown variant is a diagnostic, not an exception', () => {
    expect(backend.compile(rule(is('CommandLine', 'x')), { variant: 'nope' }).diagnostics[0]).toMatchObject({
      code: 'config/pipeline',
    })
  })
  test('compile is deterministic', () => {
    const r = rule(or([endswith('Image', '\\b.exe'), endswith('Image', '\\a.exe'), match('CommandLine', pat('x*y'))]))
    expect(backend.compile(r).query).toBe(backend.compile(r).query)
  })
})
