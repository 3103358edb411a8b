/** The SPL backend: exact text for the key shapes, every node kind, every refusal. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Node } from '../../src/ast/nodes.js'
import { backend } from '../../src/backends/spl.js'
import { compileOk, match, processRule, rule, sigma, SYSMON1 } from './helpers.js'

const q = (detection: string, condition = 'sel'): string => compileOk(processRule(detection, condition))
const body = (detection: string, condition = 'sel'): string => {
  const text = q(detection, condition)
  expect(text.startsWith(SYSMON1)).toBe(true)
  return text.slice(SYSMON1.length).trim()
}

describe('spl backend: search terms', () => {
  it('plain values are quoted search terms; backslashes and quotes are escaped once', () => {
    expect(body("sel:\n  Image: 'C:\\Windows\\sc.exe'")).toBe('Image="C:\\\\Windows\\\\sc.exe"')
    expect(body("sel:\n  Image: 'a\"b'")).toBe('Image="a\\"b"')
    expect(body('sel:\n  Image: "a\'b=c%d_e|f"')).toBe('Image="a\'b=c%d_e|f"')
  })
  it('contains / startswith / endswith put * at the ends', () => {
    expect(body("sel:\n  CommandLine|contains: ' stop '")).toBe('CommandLine="* stop *"')
    expect(body("sel:\n  Image|startswith: 'C:\\Windows\\'")).toBe('Image="C:\\\\Windows\\\\*"')
    expect(body("sel:\n  Image|endswith: '\\sc.exe'")).toBe('Image="*\\\\sc.exe"')
  })
  it('a trailing backslash stays literal before the wildcard', () => {
    expect(body("sel:\n  Image|startswith: 'a\\'")).toBe('Image="a\\\\*"')
  })
  it('a list is an IN group; maps are AND; the whole rule follows the log source prefix', () => {
    expect(q("sel:\n  Image: ['a', 'b*']\n  CommandLine|contains: x")).toBe(
      `${SYSMON1} (Image IN ("a", "b*")) CommandLine="*x*"`,
    )
  })
  it('OR binds tighter than AND in search, so every compound operand is parenthesised', () => {
    expect(body("a:\n  Image: 'abc'\nb:\n  Image: 'x'\nc:\n  CommandLine: y", 'a or b and c')).toBe(
      '(Image="abc" OR (Image="x" CommandLine="y"))',
    )
    expect(body("a:\n  Image: ['p', 'q']\nb:\n  CommandLine: ['r', 's']", 'a and b')).toBe(
      '(Image IN ("p", "q")) (CommandLine IN ("r", "s"))',
    )
  })
  it('not uses NOT (which keeps events without the field), never !=', () => {
    expect(body("sel:\n  Image|endswith: '.exe'\nf:\n  CommandLine|contains: x", 'sel and not f')).toBe(
      'Image="*.exe" NOT CommandLine="*x*"',
    )
    expect(body('a:\n  Image: x\nb:\n  Image: y', 'not (a or b)')).toBe('NOT (Image IN ("x", "y"))')
  })
  it('null, exists and neq', () => {
    expect(body('sel:\n  Image: null')).toBe('NOT Image=*')
    expect(body('sel:\n  Image|exists: true')).toBe('Image=*')
    expect(body('sel:\n  Image|exists: false')).toBe('NOT Image=*')
    expect(body('sel:\n  Image: null', 'not sel')).toBe('Image=*')
    expect(body("sel:\n  Image|neq: 'x'")).toBe('Image=* NOT Image="x"')
  })
  it('a lone * is presence with a value', () => {
    expect(body("sel:\n  Image: '*'")).toBe('Image=*')
  })
  it('cidr uses the search command subnet syntax', () => {
    expect(body("sel:\n  DestinationIp|cidr: ['10.0.0.0/8', 'fe80::/10']")).toBe(
      '(DestinationIp=10.0.0.0/8 OR DestinationIp=fe80::/10)',
    )
  })
  it('a plain value that search could read as an address or subnet is an exact text compare in where', () => {
    const where = (pcre: string) => String.raw`| where isnotnull(mvfind(DestinationIp, "^${pcre}\\z"))`
    expect(body("sel:\n  DestinationIp: '10.0.0.0/8'")).toBe(where(String.raw`10\\.0\\.0\\.0\\/8`))
    expect(body("sel:\n  DestinationIp: '10.1.2.3'")).toBe(where(String.raw`10\\.1\\.2\\.3`))
    expect(body("sel:\n  DestinationIp: 'fe80::/10'")).toBe(where(String.raw`[Ff][Ee]80\\:\\:\\/10`))
    expect(body("sel:\n  DestinationIp: 'fe80::1%eth0'")).toBe(where(String.raw`[Ff][Ee]80\\:\\:1\\%[Ee][Tt][Hh]0`))
    // In a list, the address leaves the IN group (the OR goes to where as one mvfind).
    expect(body("sel:\n  DestinationIp: ['10.0.0.0/8', 'x']")).toBe(
      String.raw`| where isnotnull(mvfind(DestinationIp, "^(?:10\\.0\\.0\\.0\\/8|[Xx])\\z"))`,
    )
    // With a wildcard it is no address: search as before.
    expect(body("sel:\n  DestinationIp|startswith: '10.'")).toBe('DestinationIp="10.*"')
    expect(body("sel:\n  Version: 'abc'")).toBe('Version="abc"')
  })
  it('windash and base64offset expand into plain alternatives', () => {
    expect(body("sel:\n  CommandLine|windash|contains: '-s'")).toBe(
      '(CommandLine IN ("*-s*", "*/s*", "*–s*", "*—s*", "*―s*"))',
    )
    expect(body("sel:\n  CommandLine|base64offset|contains: 'abc'")).toBe(
      '(CommandLine IN ("*YWJj*", "*FiY*", "*hYm*"))',
    )
  })
  it('numbers and booleans are matched as their text', () => {
    expect(body('sel:\n  Image: 5')).toBe('Image="5"')
    expect(body('sel:\n  Image: true')).toBe('Image="true"')
  })
})

describe('spl backend: where predicates', () => {
  it('? goes to an anchored, case-insensitive PCRE (never widened to *)', () => {
    expect(body("sel:\n  CommandLine: 'x?y'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "^[Xx][\\\\s\\\\S][Yy]\\\\z"))',
    )
  })
  it('a literal * (Sigma \\*) cannot be escaped in search, so it goes to where', () => {
    expect(body("sel:\n  Image: 'a\\*c'")).toBe('| where isnotnull(mvfind(Image, "^[Aa]\\\\*[Cc]\\\\z"))')
  })
  it('a * between literals goes to where', () => {
    expect(body("sel:\n  Image: 'a*b.exe'")).toBe(
      '| where isnotnull(mvfind(Image, "^[Aa][\\\\s\\\\S]*[Bb]\\\\.[Ee][Xx][Ee]\\\\z"))',
    )
  })
  it('where-values on one field under one OR share one mvfind alternation', () => {
    expect(body("sel:\n  Image: ['a?c', 'x*y', 'plain']\n  Image|cased: 'Q?'", 'sel')).toBe(
      '| where isnotnull(mvfind(Image, "^(?:[Aa][\\\\s\\\\S][Cc]|[Xx][\\\\s\\\\S]*[Yy]|[Pp][Ll][Aa][Ii][Nn])\\\\z")) AND isnotnull(mvfind(Image, "^Q[\\\\s\\\\S]\\\\z"))',
    )
  })
  it('cased values are matched without (?i)', () => {
    expect(body("sel:\n  Image|cased: 'A\"B'")).toBe('| where isnotnull(mvfind(Image, "^A\\\\\\"B\\\\z"))')
  })
  it('the empty string is matched exactly', () => {
    expect(body("sel:\n  Image: ''")).toBe('| where isnotnull(mvfind(Image, "^\\\\z"))')
  })
  it('|re keeps its boolean position: a regex under OR stays under OR', () => {
    expect(body("a:\n  Image: 'abc'\nb:\n  CommandLine|re: 'stop'", 'a or b')).toBe(
      '| where (isnotnull(mvfind(Image, "^[Aa][Bb][Cc]\\\\z")) OR isnotnull(mvfind(CommandLine, "stop")))',
    )
    expect(body("a:\n  Image: 'abc'\nb:\n  CommandLine|re: 'stop'", 'a and not b')).toBe(
      'Image="abc" | where NOT isnotnull(mvfind(CommandLine, "stop"))',
    )
  })
  it('|re flags: i spells out the letters JavaScript folds together; m and s are rewritten into the pattern; $ becomes \\z', () => {
    expect(body("sel:\n  CommandLine|re|i: 'Sk[a-cß]'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "[Ss][Kk][A-Ca-cß]"))',
    )
    expect(body("sel:\n  CommandLine|re|i: '^a.c$'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "^[Aa][^\\\\n\\\\r\\\\x{2028}\\\\x{2029}\\\\x{10000}-\\\\x{10ffff}][Cc]\\\\z"))',
    )
    expect(body("sel:\n  CommandLine|re|s: 'a.c'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "a[^\\\\x{10000}-\\\\x{10ffff}]c"))',
    )
    expect(body("sel:\n  CommandLine|re|m: '^c$'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "(?<![^\\\\n\\\\r\\\\x{2028}\\\\x{2029}])c(?![^\\\\n\\\\r\\\\x{2028}\\\\x{2029}])"))',
    )
  })
  it('a `.` that could take half an emoji in JavaScript leaves characters outside the BMP out, or stays whole at a free edge', () => {
    expect(body("sel:\n  CommandLine|re: 'a[^b]c'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "a[^b\\\\x{10000}-\\\\x{10ffff}]c"))',
    )
    expect(body("sel:\n  CommandLine|re: '\\Sc'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "[^\\\\t\\\\n\\\\x{0b}\\\\f\\\\r \\\\x{a0}\\\\x{1680}\\\\x{2000}-\\\\x{200a}\\\\x{2028}\\\\x{2029}\\\\x{202f}\\\\x{205f}\\\\x{3000}\\\\x{feff}]c"))',
    )
    expect(body("sel:\n  CommandLine|re: '(ab)?.+x'")).toBe(
      '| where isnotnull(mvfind(CommandLine, "(ab)?[^\\\\n\\\\r\\\\x{2028}\\\\x{2029}]+x"))',
    )
  })
  it('numeric comparisons read every value as a number', () => {
    expect(body('sel:\n  Count|gte: 5')).toBe('| where isnotnull(mvfilter(tonumber(trim(Count)) >= 5))')
    expect(body('sel:\n  Count|lt: -2.5')).toBe('| where isnotnull(mvfilter(tonumber(trim(Count)) < -2.5))')
  })
  it('fieldref compares the value sets of both fields', () => {
    expect(body('sel:\n  Image|fieldref|cased: ParentImage')).toBe(
      '| where if(isnotnull(Image) AND isnotnull(ParentImage), mvcount(mvdedup(mvappend(mvdedup(Image), mvdedup(ParentImage)))) < mvcount(mvdedup(Image)) + mvcount(mvdedup(ParentImage)), false())',
    )
  })
  it('field names that search cannot write bare are single-quoted in where', () => {
    expect(body("sel:\n  Some-Field: 'x'")).toBe('| where isnotnull(mvfind(\'Some-Field\', "^[Xx]\\\\z"))')
    expect(body("sel:\n  OR: 'x'")).toBe('| where isnotnull(mvfind(\'OR\', "^[Xx]\\\\z"))')
  })
})

describe('spl backend: AST nodes built directly', () => {
  const text = (n: Node): string => compileOk(rule(n)).slice(SYSMON1.length).trim()
  it('Match of every shape', () => {
    expect(text(match('F', 'abc'))).toBe('F="abc"')
    expect(text(match('F', '*abc*'))).toBe('F="*abc*"')
    expect(text(match('F', 'abc*'))).toBe('F="abc*"')
    expect(text(match('F', '*abc'))).toBe('F="*abc"')
    expect(text(match('F', '*'))).toBe('F=*')
    expect(text(match('F', 'a*b'))).toBe('| where isnotnull(mvfind(F, "^[Aa][\\\\s\\\\S]*[Bb]\\\\z"))')
    expect(text(match('F', 'a?b', true))).toBe('| where isnotnull(mvfind(F, "^a[\\\\s\\\\S]b\\\\z"))')
  })
  it('Cidr, Compare, Exists, Null, FieldRef, Regex', () => {
    expect(text({ kind: 'Cidr', field: 'ip', cidr: '10.0.0.0/8', family: 4 })).toBe('ip=10.0.0.0/8')
    expect(text({ kind: 'Compare', field: 'n', op: 'gt', value: 1e21 })).toBe(
      '| where isnotnull(mvfilter(tonumber(trim(n)) > 1e21))',
    )
    expect(text({ kind: 'Exists', field: 'f' })).toBe('f=*')
    expect(text({ kind: 'Null', field: 'f' })).toBe('NOT f=*')
    expect(text({ kind: 'FieldRef', field: 'a', ref: 'b', cased: true })).toContain('mvdedup(a)')
    // Case-insensitive: lower() is not documented for non-ASCII letters, Sigma folds ASCII only.
    const ci = backend.compile(rule({ kind: 'FieldRef', field: 'a', ref: 'b', cased: false }))
    expect(ci.query).toBeUndefined()
    expect(ci.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-case-folding'])
    expect(text({ kind: 'Regex', field: 'f', source: 'a\\sb', flags: { i: false, m: false, s: false } })).toBe(
      '| where isnotnull(mvfind(f, "a[\\\\t\\\\n\\\\x{0b}\\\\f\\\\r \\\\x{a0}\\\\x{1680}\\\\x{2000}-\\\\x{200a}\\\\x{2028}\\\\x{2029}\\\\x{202f}\\\\x{205f}\\\\x{3000}\\\\x{feff}]b"))',
    )
  })
  it('Not of Not is parenthesised, never NOT NOT', () => {
    const notNot: Node = { kind: 'Not', item: { kind: 'Not', item: match('F', 'x') } }
    expect(text({ kind: 'Or', items: [notNot, match('G', 'y')] })).toBe('((NOT (NOT F="x")) OR G="y")')
    // At the top a double negation is simply dropped.
    expect(text(notNot)).toBe('F="x"')
  })
  it('a filter that cannot be searched as a whole is opened (De Morgan) so its parts can be', () => {
    const r = processRule(
      "sel:\n  Image|endswith: '.exe'\nf1:\n  User|endswith: '$'\nf2:\n  User|fieldref|cased: ParentUser",
      'sel and not 1 of f*',
    )
    expect(compileOk(r).slice(SYSMON1.length).trim()).toMatch(/^Image="\*\.exe" NOT User="\*\$" \| where NOT if\(/)
  })
  it('the same rule compiles to byte-identical text', () => {
    const r = processRule("sel:\n  Image|endswith: ['\\a.exe', '\\b.exe']\n  CommandLine|re: 'x+'")
    expect(backend.compile(r).query).toBe(backend.compile(r).query)
  })
})

describe('spl backend: refusals', () => {
  const refused = (r: ReturnType<typeof processRule>) => {
    const c = backend.compile(r)
    expect(c.query).toBeUndefined()
    expect(c.diagnostics).toHaveLength(1)
    const d = c.diagnostics[0]!
    expect(d.severity).toBe('error')
    expect(d.target).toBe('spl')
    expect(d.file).toBe('rules/test.yml')
    return d
  }
  it('keywords: a search term matches raw text, not string values', () => {
    const d = refused(processRule("sel:\n  - 'stop'\n  - 'start'"))
    expect(d.code).toBe('target/unsupported-keyword')
    expect(d.message).toMatch(/^spl cannot express a Sigma keyword/)
    expect(d.at).toEqual({ line: 8, col: 6 })
  })
  it('regex constructs PCRE reads differently', () => {
    for (const [re, why] of [
      ['\\Astop', /escape \\A/],
      ['stop\\Z', /escape \\Z/],
      ['(a)\\1', /backreference/],
      ['(?<=a+)b', /lookbehind/],
      ['a😀', /Basic Multilingual Plane/],
      ['[[:alpha:]]', /./],
      ['a.{2}b', /counted repeat/],
      ['\\b.x', /single-character wildcard next to/],
      ['..', /side by side/],
      ['(a.*)?.+x', /repeated single-character wildcard/],
    ] as const) {
      const c = backend.compile(processRule(`sel:\n  CommandLine|re: '${re}'`))
      if (re === '[[:alpha:]]') {
        // JavaScript reads this as a class of "[:alph" followed by "]": PCRE must see the same.
        expect(c.query).toContain('"[\\\\:\\\\[ahlp]\\\\]"')
        continue
      }
      expect(c.query, re).toBeUndefined()
      expect(c.diagnostics[0]!.code).toBe('target/unsupported-regex')
      expect(c.diagnostics[0]!.message).toMatch(why)
    }
  })
  it('a log source with no Splunk mapping, listing what is supported', () => {
    const r = sigma(`title: t
logsource:
  product: plan9
  category: process_creation
detection:
  sel:
    Image: x
  condition: sel
`)
    const c = backend.compile(r)
    expect(c.query).toBeUndefined()
    expect(c.diagnostics[0]!.code).toBe('target/unsupported-logsource')
    expect(c.diagnostics[0]!.message).toContain('product=plan9 category=process_creation')
    expect(c.diagnostics[0]!.message).toContain('windows/process_creation')
  })
  it("a Sigma field that is one of Splunk's default fields (Zeek's HTTP host)", () => {
    const r = sigma(`title: t
logsource:
  product: zeek
  service: http
detection:
  sel:
    host|endswith: '.bid'
  condition: sel
`)
    const c = backend.compile(r)
    expect(c.query).toBeUndefined()
    expect(c.diagnostics[0]!.code).toBe('target/unsupported-field-name')
    expect(c.diagnostics[0]!.message).toContain("'host'")
    expect(c.diagnostics[0]!.at).toEqual({ line: 6, col: 19 })
  })
  it('a field name eval cannot quote', () => {
    const d = refused(processRule("sel:\n  \"we'ird\": 'x'"))
    expect(d.code).toBe('target/unsupported-field-name')
  })
})

describe('spl backend: log sources and --pipeline', () => {
  const withLs = (ls: string, det = "sel:\n    Image: 'x'"): string =>
    compileOk(sigma(`title: t\nlogsource:\n  ${ls}\ndetection:\n  ${det}\n  condition: sel\n`))
  it('the most specific log source wins', () => {
    expect(withLs('product: linux\n  category: process_creation')).toBe('`sysmon_linux` EventCode=1 Image="x"')
    expect(withLs('product: linux\n  service: auditd')).toBe('`linux_auditd` Image="x"')
    expect(withLs('product: linux')).toBe('`linux_logs` Image="x"')
  })
  it('Windows channels and PowerShell', () => {
    expect(withLs('product: windows\n  service: security', 'sel:\n    EventID: 4688')).toBe(
      '`wineventlog_security` EventCode="4688"',
    )
    expect(withLs('product: windows\n  category: ps_script', "sel:\n    ScriptBlockText|contains: 'x'")).toBe(
      '`powershell` EventCode=4104 ScriptBlockText="*x*"',
    )
    expect(withLs('product: windows\n  category: registry_event')).toBe('`sysmon` EventCode IN (12, 13, 14) Image="x"')
  })
  it('a field the rule tests itself is left to the rule, not pinned by the log source', () => {
    expect(withLs('product: windows\n  category: wmi_event', 'sel:\n    EventID: [19, 20]')).toBe(
      '`sysmon` (EventCode IN ("19", "20"))',
    )
  })
  it('a pipeline file adds a log source and renames fields, without code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spl-pipeline-'))
    const file = join(dir, 'pipeline.yml')
    writeFileSync(
      file,
      `fields:
  CommandLine: process
logsources:
  windows-process-creation:
    match: { product: windows, category: process_creation }
    search: { index: edr, sourcetype: "crowdstrike:events" }
    fields: { Image: process_path }
  plan9:
    match: { product: plan9 }
    search: { index: plan9 }
`,
    )
    const r = processRule("sel:\n  Image|endswith: '\\x.exe'\n  CommandLine|contains: y")
    expect(compileOk(r, { pipeline: file })).toBe(
      'index="edr" sourcetype="crowdstrike:events" process_path="*\\\\x.exe" process="*y*"',
    )
    // The shipped environment is untouched for compiles without the pipeline.
    expect(compileOk(r)).toBe(`${SYSMON1} Image="*\\\\x.exe" CommandLine="*y*"`)
    const plan9 = sigma('title: t\nlogsource:\n  product: plan9\ndetection:\n  sel:\n    a: b\n  condition: sel\n')
    expect(compileOk(plan9, { pipeline: file })).toBe('index="plan9" a="b"')
  })
  it('a broken pipeline file is a diagnostic, not an exception', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spl-pipeline-'))
    const file = join(dir, 'bad.yml')
    writeFileSync(file, 'logsources:\n  x:\n    match: [1, 2]\n')
    const c = backend.compile(processRule('sel:\n  Image: x'), { pipeline: file })
    expect(c.query).toBeUndefined()
    expect(c.diagnostics[0]!.code).toBe('config/pipeline')
    const missing = backend.compile(processRule('sel:\n  Image: x'), { pipeline: join(dir, 'absent.yml') })
    expect(missing.diagnostics[0]!.code).toBe('config/pipeline')
  })
})
