/** Every Sigma modifier, loaded from inline YAML, through the kql backend: the emitted text and equivalence. */
import { describe, expect, test } from 'vitest'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkKql } from '../../src/verify/kql-parser.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { loadRuleText } from '../../src/rule/load.js'
import type { JsonEvent } from '../../src/rule/rule.js'

function sigma(detection: string, logsource = 'category: process_creation\n  product: windows'): string {
  return `title: t\nid: 0d2f1c3a-1b2c-4d5e-8f90-a1b2c3d4e5f6\nlogsource:\n  ${logsource}\ndetection:\n${detection.replace(/^/gm, '  ')}\n`
}

const EVENTS: JsonEvent[] = [
  {},
  { CommandLine: '' },
  { CommandLine: null },
  { CommandLine: 'cmd /c whoami', Image: 'C:\\Windows\\System32\\cmd.exe', ProcessId: 4, ParentProcessId: 4 },
  { CommandLine: 'CMD -C WHOAMI', Image: 'c:\\windows\\system32\\CMD.EXE', ProcessId: 5, ParentProcessId: 4 },
  { CommandLine: 'cmd –c whoami', Image: 'D:\\x\\cmd.exe.bak' },
  { CommandLine: 'powershell -e SQBFAFgA', Image: 'C:\\p\\powershell.exe' },
  { CommandLine: 'x aQBlAHgA y', Image: 'C:\\a\\b.exe' },
  { CommandLine: 'invoke-expression', Image: 'évil.exe' },
  { CommandLine: 'a\\b*c?d', Image: 'C:\\%TEMP%\\x.exe' },
]

const CASES: Array<[string, string, string | RegExp]> = [
  [
    'contains|all',
    'sel:\n  CommandLine|contains|all: [cmd, whoami]\ncondition: sel',
    'ProcessCommandLine contains "cmd" and ProcessCommandLine contains "whoami"',
  ],
  ['startswith', 'sel:\n  CommandLine|startswith: cmd\ncondition: sel', 'ProcessCommandLine startswith "cmd"'],
  [
    'endswith list',
    "sel:\n  Image|endswith: ['\\cmd.exe', '\\powershell.exe']\ncondition: sel",
    'FileName in~ ("cmd.exe", "powershell.exe")',
  ],
  ['cased', 'sel:\n  CommandLine|cased: cmd /c whoami\ncondition: sel', 'ProcessCommandLine == "cmd /c whoami"'],
  [
    'windash',
    "sel:\n  CommandLine|windash|contains: ' -c '\ncondition: sel",
    /ProcessCommandLine contains " -c " or ProcessCommandLine contains " \/c " or/,
  ],
  ['base64offset', 'sel:\n  CommandLine|base64offset|contains: iex\ncondition: sel', /contains "aWV4"/],
  [
    'utf16le base64offset',
    'sel:\n  CommandLine|utf16le|base64offset|contains: iex\ncondition: sel',
    /contains "aQBlAHgA"/,
  ],
  ['wide base64', 'sel:\n  CommandLine|wide|base64|contains: IEX\ncondition: sel', /contains "SQBFAFgA"/],
  [
    're',
    "sel:\n  CommandLine|re: '\\s-e\\s'\ncondition: sel",
    'ProcessCommandLine matches regex @"[\\t\\n\\x{B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]-e[\\t\\n\\x{B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]"',
  ],
  ['re|i', "sel:\n  CommandLine|re|i: '^CMD '\ncondition: sel", 'ProcessCommandLine matches regex @"^[Cc][Mm][Dd] "'],
  [
    'wildcards',
    "sel:\n  Image: 'C:\\\\*\\\\cmd.exe'\ncondition: sel",
    'FolderPath matches regex @"(?s)^[Cc]:\\\\.*\\\\[Cc][Mm][Dd]\\.[Ee][Xx][Ee]$"',
  ],
  ['escaped star is literal', "sel:\n  Image: 'C:\\*\\cmd.exe'\ncondition: sel", 'FolderPath =~ @"C:*\\cmd.exe"'],
  [
    'escaped wildcard',
    "sel:\n  CommandLine|contains: 'b\\*c\\?d'\ncondition: sel",
    'ProcessCommandLine contains "b*c?d"',
  ],
  [
    'not / 1 of',
    "sel1:\n  CommandLine|contains: cmd\nsel2:\n  CommandLine|contains: ps\nfilter:\n  Image|endswith: '.bak'\ncondition: 1 of sel* and not filter",
    '(ProcessCommandLine contains "cmd" or ProcessCommandLine contains "ps") and not(FolderPath endswith ".bak")',
  ],
  ['gt', 'sel:\n  ProcessId|gt: 4\ncondition: sel', '(isnotnull(ProcessId) and ProcessId > 4)'],
  [
    'fieldref (numeric)',
    'sel:\n  ProcessId|fieldref: ParentProcessId\ncondition: sel',
    '(isnotnull(ProcessId) and isnotnull(InitiatingProcessId) and ProcessId == InitiatingProcessId)',
  ],
  ['exists (numeric)', 'sel:\n  ProcessId|exists: true\ncondition: sel', 'isnotnull(ProcessId)'],
  ['number value', 'sel:\n  ProcessId: 5\ncondition: sel', 'ProcessId == 5'],
]

const REFUSED: Array<[string, string, string]> = [
  ['exists (string)', 'sel:\n  CommandLine|exists: true\ncondition: sel', 'target/unsupported-exists'],
  ['null (string)', 'sel:\n  CommandLine: null\ncondition: sel', 'target/unsupported-null'],
  ['neq (string)', 'sel:\n  CommandLine|neq: x\ncondition: sel', 'target/unsupported-null'],
  ['empty value', "sel:\n  CommandLine: ''\ncondition: sel", 'target/unsupported-empty-value'],
  ['fieldref (string)', 'sel:\n  Image|fieldref: CommandLine\ncondition: sel', 'target/unsupported-fieldref'],
  ['keywords', 'keywords:\n  - evil\ncondition: keywords', 'target/unsupported-keyword'],
  ['lookahead', "sel:\n  CommandLine|re: 'a(?=b)'\ncondition: sel", 'target/unsupported-regex'],
  ['string compare', 'sel:\n  CommandLine|gt: 4\ncondition: sel', 'target/unsupported-compare'],
  ['unknown field', 'sel:\n  Hashes|contains: abc\ncondition: sel', 'target/unknown-field'],
]

describe('modifiers through the kql backend', () => {
  for (const [name, detection, expected] of CASES) {
    test(name, async () => {
      const loaded = loadRuleText(sigma(detection), 'm.yml')
      expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
      const r = loaded.rules[0]!
      const c = backend.compile(r)
      expect(c.query, JSON.stringify(c.diagnostics)).toBeDefined()
      const where = c.query!.split('\n').at(-1)!.replace('| where ', '')
      if (typeof expected === 'string') expect(where).toBe(expected)
      else expect(where).toMatch(expected)
      expect(await checkKql(c.query!, 'defender')).toEqual([])
      const eq = await checkEquivalence(r, EVENTS, backend, verifier)
      expect(eq.mismatches, c.query).toEqual([])
      expect(eq.actual).toBeDefined()
    })
  }
  for (const [name, detection, code] of REFUSED) {
    test(`refused: ${name}`, () => {
      const ls = name === 'ipv6 cidr' ? 'category: network_connection\n  product: windows' : undefined
      const loaded = loadRuleText(sigma(detection, ls), 'm.yml')
      const r = loaded.rules[0]!
      const c = backend.compile(r)
      expect(c.query).toBeUndefined()
      const e = c.diagnostics.find((d) => d.severity === 'error')!
      expect(e.code).toBe(code)
      expect(e.file).toBe('m.yml')
      expect(e.at).toBeDefined()
    })
  }
})
