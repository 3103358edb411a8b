/** The eql backend: exact emitted text for every node kind and modifier shape, and every refusal. */
import { withOrigin } from '../../src/origin.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { backend, eqlField, eqlString } from '../../src/backends/eql.js'
import { toLucene } from '../../src/regex/lucene.js'
import { parseSigmaRegex } from '../../src/regex/parse.js'
import { astRule, eql, sigma } from './helpers.js'

const sel = (body: string, condition = 'sel') => `  sel:\n    ${body}\n  condition: ${condition}`
const NET = 'product: windows\n  category: network_connection'
/**
 * Tests that hold for "", "-" or the zero GUID, which the Sysmon pipelines remove from event data:
 * shown on Linux process creation (Elastic Defend keeps such values), refused on Windows' Sysmon
 * log sources (sysmon-removed.test.ts).
 */
const LINUX_PROC = 'product: linux\n  category: process_creation'
const ON_LINUX = new Set([
  '* → any value of the field',
  'empty string',
  'null → == null',
  '|exists → != null',
  '|exists: false → == null',
  '|neq → present and not equal',
  '|re \\d',
])

describe('eql backend: values and modifiers', () => {
  const cases: ReadonlyArray<readonly [string, string, string?]> = [
    [
      'plain value → : (case-insensitive)',
      `Image: 'C:\\Windows\\cmd.exe'`,
      'process where event.type == "start" and process.executable : "C:\\\\Windows\\\\cmd.exe"',
    ],
    [
      'endswith',
      `Image|endswith: '\\cmd.exe'`,
      'process where event.type == "start" and process.executable : "*\\\\cmd.exe"',
    ],
    [
      'startswith',
      `Image|startswith: 'C:\\Temp\\'`,
      'process where event.type == "start" and process.executable : "C:\\\\Temp\\\\*"',
    ],
    [
      'contains',
      `CommandLine|contains: ' /c '`,
      'process where event.type == "start" and process.command_line : "* /c *"',
    ],
    ['? wildcard', `CommandLine: 'a?c'`, 'process where event.type == "start" and process.command_line : "a?c"'],
    [
      'list → one : with a list',
      `Image|endswith: ['\\a.exe', '\\b.exe']`,
      'process where event.type == "start" and process.executable : ("*\\\\a.exe", "*\\\\b.exe")',
    ],
    [
      '|all → and',
      `CommandLine|contains|all: ['a', 'b']`,
      'process where event.type == "start" and process.command_line : "*a*" and process.command_line : "*b*"',
    ],
    [
      'literal * → regex~',
      `CommandLine: 'a\\*c'`,
      'process where event.type == "start" and process.command_line regex~ "a\\\\*c"',
    ],
    [
      'literal ? with wildcard → regex~',
      `CommandLine|contains: 'what\\?'`,
      'process where event.type == "start" and process.command_line regex~ ".*what\\\\?.*"',
    ],
    [
      // `:` folds ASCII only (AutomatonQueries: "For now we only work with ASCII characters"), as Sigma does.
      'non-ASCII letter stays in : (both sides fold ASCII only)',
      `CommandLine|contains: 'é'`,
      'process where event.type == "start" and process.command_line : "*é*"',
    ],
    ['sharp s stays in :', `CommandLine: 'ß'`, 'process where event.type == "start" and process.command_line : "ß"'],
    [
      'Greek sigma and dotted I stay in :',
      `CommandLine: 'Σİ'`,
      'process where event.type == "start" and process.command_line : "Σİ"',
    ],
    [
      'caseless non-ASCII stays in :',
      `CommandLine|contains: '😀'`,
      'process where event.type == "start" and process.command_line : "*😀*"',
    ],
    [
      '|cased exact → ==',
      `CommandLine|cased: 'StOp'`,
      'process where event.type == "start" and process.command_line == "StOp"',
    ],
    [
      '|cased list → in',
      `CommandLine|cased: ['A', 'B']`,
      'process where event.type == "start" and process.command_line in ("A", "B")',
    ],
    [
      '|cased wildcard → like',
      `CommandLine|cased|contains: 'StOp'`,
      'process where event.type == "start" and process.command_line like "*StOp*"',
    ],
    [
      '|cased literal * → regex',
      `CommandLine|cased|contains: 'a\\*'`,
      'process where event.type == "start" and process.command_line regex ".*a\\\\*.*"',
    ],
    [
      '|cased literal * exact → == (no wildcards in ==)',
      `CommandLine|cased: 'a\\*'`,
      'process where event.type == "start" and process.command_line == "a*"',
    ],
    [
      '* → any value of the field',
      `CommandLine: '*'`,
      'process where event.type == "start" and process.command_line : "*"',
    ],
    ['empty string', `CommandLine: ''`, 'process where event.type == "start" and process.command_line : ""'],
    [
      'quote and backslash escapes',
      `CommandLine: 'say "hi" \\'`,
      'process where event.type == "start" and process.command_line : "say \\"hi\\" \\\\"',
    ],
    [
      'control characters → \\u{…}',
      `CommandLine: "a\\tb\\u0001"`,
      'process where event.type == "start" and process.command_line : "a\\tb\\u{01}"',
    ],
    ['null → == null', `CommandLine: null`, 'process where event.type == "start" and process.command_line == null'],
    [
      '|exists → != null',
      `CommandLine|exists: true`,
      'process where event.type == "start" and process.command_line != null',
    ],
    [
      '|exists: false → == null',
      `CommandLine|exists: false`,
      'process where event.type == "start" and process.command_line == null',
    ],
    [
      '|neq → present and not equal',
      `CommandLine|neq: x`,
      'process where event.type == "start" and process.command_line != null and not (process.command_line != null and process.command_line : "x")',
    ],
    [
      '|re → padded Lucene regex',
      `CommandLine|re: 'sc(\\.exe)? +stop'`,
      'process where event.type == "start" and process.command_line regex ".*(sc(\\\\.exe)? +stop).*"',
    ],
    [
      '|re anchored',
      `CommandLine|re: '^net stop$'`,
      'process where event.type == "start" and process.command_line regex "net stop"',
    ],
    [
      '|re|i → regex~',
      `CommandLine|re|i: '^net'`,
      'process where event.type == "start" and process.command_line regex~ "net.*"',
    ],
    [
      '|re \\d',
      `CommandLine|re: '\\d{2,}'`,
      'process where event.type == "start" and process.command_line regex ".*([0-9]{2,}).*"',
    ],
    ['|lt on a number field', `ProcessId|lt: 4`, 'process where event.type == "start" and process.pid < 4'],
    ['|gte on a number field', `ProcessId|gte: 4`, 'process where event.type == "start" and process.pid >= 4'],
    ['number value on a number field → ==', `ProcessId: 4`, 'process where event.type == "start" and process.pid == 4'],
    [
      'number value on a keyword field → its text',
      `EventID: 4688`,
      'process where event.type == "start" and winlog.event_id : "4688"',
    ],
    [
      'unmapped Windows field → optional ?winlog.event_data.<Field>',
      `IntegrityLevel: High`,
      'process where event.type == "start" and ?winlog.event_data.IntegrityLevel : "High"',
    ],
  ]
  for (const [name, body, want] of cases)
    test(name, () => {
      expect(eql(sigma(sel(body), ON_LINUX.has(name) ? LINUX_PROC : undefined))).toBe(want)
      if (ON_LINUX.has(name)) expect(eql(sigma(sel(body)))).toBe('REFUSED target/unsupported-match')
    })
  test('the tests shown on Linux are the ones the cases hold', () => {
    expect([...ON_LINUX].filter((n) => !cases.some(([name]) => name === n))).toEqual([])
  })

  test('|windash expands - / and the dashes', () => {
    expect(eql(sigma(sel(`CommandLine|windash|contains: ' -s '`)))).toBe(
      'process where event.type == "start" and process.command_line : ("* -s *", "* /s *", "* –s *", "* —s *", "* ―s *")',
    )
  })
  test('|cidr → cidrMatch, siblings merged; numbers stay ==', () => {
    expect(
      eql(
        sigma(
          `  sel:\n    DestinationIp|cidr: ['10.0.0.0/8', '::1/128']\n    DestinationPort: [80, 443]\n  condition: sel`,
          NET,
        ),
      ),
    ).toBe(
      'network where cidrMatch(destination.ip, "10.0.0.0/8", "::1/128") and (destination.port == 80 or destination.port == 443)',
    )
  })
  test('ip field: exact IPv4 → ==, octet prefix → cidrMatch', () => {
    expect(eql(sigma(sel(`DestinationIp: 127.0.0.1`), NET))).toBe('network where destination.ip == "127.0.0.1"')
    expect(eql(sigma(sel(`DestinationIp: ['127.0.0.1', '0.0.0.0']`), NET))).toBe(
      'network where destination.ip == "127.0.0.1" or destination.ip == "0.0.0.0"',
    )
    expect(eql(sigma(sel(`DestinationIp|startswith: ['10.', '192.168.']`), NET))).toBe(
      'network where cidrMatch(destination.ip, "10.0.0.0/8", "192.168.0.0/16")',
    )
  })
  test('a service log source adds its channel', () => {
    expect(eql(sigma(sel(`EventID: 7045`), 'product: windows\n  service: system'))).toBe(
      'any where winlog.channel == "System" and winlog.event_id : "7045"',
    )
  })
  test('field names outside the plain dotted form go in backticks', () => {
    expect(eqlField('a.b_c')).toBe('a.b_c')
    expect(eqlField('winlog.event_data.Some-Field')).toBe('`winlog.event_data.Some-Field`')
    expect(eqlField('x`y')).toBe('`x``y`')
    expect(eqlField('where')).toBe('`where`')
    expect(eqlString('a"b\\c\nd\u2028')).toBe('"a\\"b\\\\c\\nd\\u{2028}"')
  })
})

describe('eql backend: conditions', () => {
  test('and / or / not with parentheses where precedence needs them', () => {
    const rule = sigma(
      `  a:\n    Image|endswith: '\\a.exe'\n  b:\n    CommandLine|contains: x\n  c:\n    ParentImage|contains: y\n  condition: (a or b) and not c`,
    )
    expect(eql(rule)).toBe(
      'process where event.type == "start" and (process.executable : "*\\\\a.exe" or process.command_line : "*x*") and not (process.parent.executable != null and process.parent.executable : "*y*")',
    )
  })
  test('or binds looser than and: no parentheses needed, until a log source constant is and-ed in front', () => {
    const detection = `  a:\n    Image: a\n  b:\n    Image: b\n    CommandLine: c\n  condition: a or b`
    expect(eql(sigma(detection, 'product: windows\n  category: image_load'))).toBe(
      'library where process.executable : "a" or process.executable : "b" and process.command_line : "c"',
    )
    expect(eql(sigma(detection))).toBe(
      'process where event.type == "start" and (process.executable : "a" or process.executable : "b" and process.command_line : "c")',
    )
  })
  test('every comparison under a not is guarded so that a missing field counts as not matching', () => {
    const rule = astRule(
      {
        kind: 'Not',
        item: {
          kind: 'Or',
          items: [
            { kind: 'Match', field: 'Image', pattern: [{ kind: 'lit', text: 'a' }], cased: false },
            { kind: 'Exists', field: 'CommandLine' },
          ],
        },
      },
      { product: 'linux', category: 'process_creation' },
    )
    expect(eql(rule)).toBe(
      'process where event.type == "start" and not ((process.executable != null and process.executable : "a") or process.command_line != null)',
    )
  })
  test('compile is deterministic', () => {
    const rule = sigma(sel(`CommandLine|contains: ['é', 'b', '\\*']`))
    expect(eql(rule)).toBe(eql(rule))
  })
})

describe('eql backend: refusals', () => {
  const refusals: ReadonlyArray<readonly [string, string, string, string?]> = [
    [
      'field reference',
      `CommandLine|fieldref: Image`,
      'target/unsupported-fieldref',
      'compare the field CommandLine with the field Image',
    ],
    ['lookbehind', `CommandLine|re: '(?<=a)b'`, 'target/unsupported-regex', 'a lookbehind'],
    ['backreference', `CommandLine|re: '(a)\\1'`, 'target/unsupported-regex', 'backreference'],
    ['word boundary', `CommandLine|re: '\\bnet\\b'`, 'target/unsupported-regex', 'word boundary'],
    ['anchor inside', `CommandLine|re: 'a^b'`, 'target/unsupported-regex', 'an anchor inside the expression'],
    ['anchor with m', `CommandLine|re|m: '^a'`, 'target/unsupported-regex', 'm flag'],
    ['two single-character atoms', `CommandLine|re: 'a..b'`, 'target/unsupported-regex', 'side by side'],
    [
      'a count on a single-character atom',
      `CommandLine|re: 'a.{2}b'`,
      'target/unsupported-regex',
      'a counted repeat of a single-character wildcard',
    ],
    ['numeric comparison on a keyword', `CommandLine|gt: 4`, 'target/unsupported-compare', 'compares strings as text'],
    ['wildcard on a number field', `ProcessId: '4*'`, 'target/unsupported-match', 'number field process.pid'],
    [
      'CIDR on a keyword field',
      `CommandLine|cidr: 10.0.0.0/8`,
      'target/unsupported-cidr',
      'cidrMatch needs an ip field',
    ],
  ]
  for (const [name, body, code, words] of refusals) {
    test(name, () => {
      const rule = sigma(sel(body))
      const c = backend.compile(rule)
      expect(c.query).toBeUndefined()
      const d = c.diagnostics[0]!
      expect(d).toMatchObject({ code, severity: 'error', file: 'test.yml', target: 'eql' })
      expect(d.message).toMatch(/^eql cannot /)
      if (words) expect(d.message).toContain(words)
      expect(d.at).toBeDefined()
    })
  }
  test('keywords', () => {
    const c = backend.compile(sigma(`  keywords:\n    - evil\n  condition: keywords`))
    expect(c.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-keyword'])
  })
  test('a text field is refused by name', () => {
    const c = backend.compile(sigma(sel(`ScriptBlockText|contains: x`), 'product: windows\n  category: ps_script'))
    expect(c.diagnostics[0]).toMatchObject({ code: 'target/unsupported-field-type' })
    expect(c.diagnostics[0]!.message).toContain('powershell.file.script_block_text')
  })
  test('an unmapped field without a fallback prefix', () => {
    const c = backend.compile(sigma(sel(`LogonId: 0x3e7`), 'product: linux\n  category: process_creation'))
    expect(c.diagnostics[0]).toMatchObject({ code: 'target/unknown-field' })
    expect(c.diagnostics[0]!.message).toContain('LogonId')
  })
  test('an unknown log source lists what is supported', () => {
    const c = backend.compile(sigma(sel(`logtype: 5001`), 'product: opencanary\n  category: application'))
    expect(c.diagnostics[0]).toMatchObject({ code: 'target/unsupported-logsource', file: 'test.yml', target: 'eql' })
    expect(c.diagnostics[0]!.message).toContain('windows/process_creation')
  })
  test('every refused construct of a rule is reported', () => {
    const c = backend.compile(
      sigma(`  a:\n    CommandLine|fieldref: Image\n  b:\n    CommandLine|re: '\\bx'\n  condition: a or b`),
    )
    expect(c.diagnostics.map((d) => d.code).sort()).toEqual(['target/unsupported-fieldref', 'target/unsupported-regex'])
  })
})

describe('eql backend: user pipeline', () => {
  test('adds a log source and overrides a field name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eql-pipeline-'))
    const file = join(dir, 'p.yml')
    writeFileSync(
      file,
      'fields:\n  Image: process.name\nlogsources:\n  canary:\n    match: { product: opencanary }\n    category: any\n    fields: { eventName: event.action }\n',
    )
    const win = sigma(sel(`Image: cmd.exe`))
    expect(backend.compile(win, { pipeline: file }).query).toBe(
      'process where event.type == "start" and process.name : "cmd.exe"',
    )
    const canary = sigma(sel(`eventName: StopLogging`), 'product: opencanary\n  category: application')
    expect(backend.compile(canary, { pipeline: file }).query).toBe('any where event.action : "StopLogging"')
    // The shipped environment is untouched for other callers.
    expect(backend.compile(win).query).toBe('process where event.type == "start" and process.executable : "cmd.exe"')
  })
  test('a pipeline naming a field that is not in the schema is refused at compile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eql-pipeline-'))
    const file = join(dir, 'p.yml')
    writeFileSync(file, 'fields:\n  Image: process.no_such_field\n')
    const c = backend.compile(sigma(sel(`Image: x`)), { pipeline: file })
    expect(c.diagnostics[0]).toMatchObject({ code: 'target/unknown-field' })
    expect(c.diagnostics[0]!.message).toContain('process.no_such_field')
  })
  test('an unreadable or malformed pipeline is a diagnostic, not an exception', () => {
    const bad = backend.compile(sigma(sel(`Image: x`)), { pipeline: '/nonexistent/eql.yml' })
    expect(bad.diagnostics[0]).toMatchObject({ code: 'config/pipeline', severity: 'error' })
    const dir = mkdtempSync(join(tmpdir(), 'eql-pipeline-'))
    const file = join(dir, 'p.yml')
    writeFileSync(file, 'logsources: [1, 2]\n')
    expect(backend.compile(sigma(sel(`Image: x`)), { pipeline: file }).diagnostics[0]).toMatchObject({
      code: 'config/pipeline',
    })
  })
})

describe('eql regex translation', () => {
  const flags = { i: false, m: false, s: false }
  const regexToLucene = (src: string, f: typeof flags): string => {
    const parsed = parseSigmaRegex(src, f)
    const printed = 'unsupported' in parsed ? parsed : toLucene(parsed)
    return 'text' in printed ? printed.text : `refused: ${printed.unsupported.construct}`
  }
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['abc', '.*(abc).*'],
    ['^abc$', 'abc'],
    ['^a|b$', 'a.*|.*b'],
    ['a(b|)c', '.*(a(b|())c).*'],
    ['[a-c]', '.*([a-c]).*'],
    ['a.c', '.*(a[^\n\r\u2028\u2029\u{10000}-\u{10FFFF}]c).*'],
    ['a.', '.*(a[^\n\r\u2028\u2029]).*'],
    ['^.$', '[^\n\r\u2028\u2029\u{10000}-\u{10FFFF}]'],
    ['a.*c', '.*(a[^\n\r\u2028\u2029]*c).*'],
    ['x{2}y{1,}z{0,3}?', '.*(x{2}y{1,}z{0,3}).*'],
    ['\\x41\\u00e9\\t', '.*(Aé\t).*'],
    ['[@#&<>~"]', '.*([\\@\\#\\&\\<\\>\\~\\"]).*'],
    ['a{', '.*(a\\{).*'],
    ['(^[ab]{2}$)|(^c$)', '[ab]{2}|c'],
    ['(?:^x|y$)', 'x.*|.*y'],
    ['(a)(b)', '.*((a)(b)).*'],
  ]
  for (const [src, want] of cases)
    test(`${JSON.stringify(src)} → ${JSON.stringify(want)}`, () => expect(regexToLucene(src, flags)).toBe(want))
  test('the i flag spells out non-ASCII case variants and ASCII ranges', () => {
    expect(regexToLucene('é', { ...flags, i: true })).toBe('.*([Éé]).*')
    expect(regexToLucene('^[a-c]$', { ...flags, i: true })).toBe('[a-cABC]')
  })
})

describe('log source constants', () => {
  test('pins the log source constant even when the rule tests that field itself (an Application event is never a System-log event)', async () => {
    const { verifier } = await import('../../src/verify/eql.js')
    const r = sigma(
      `
    selection:
        EventID: 104
    filter:
        Channel: Application
    condition: selection and not filter`,
      'product: windows\n  service: system',
    )
    const c = backend.compile(r, {})
    expect(c.query).toContain('winlog.channel == "System" and')
    const events = [{ EventID: 104 }, { EventID: 104, Channel: 'System' }, { EventID: 104, Channel: 'Application' }]
    const v = await verifier.verify(c.query!, withOrigin(events, r.logsource), {})
    expect(v.matches).toEqual([true, true, false])
  })
})
