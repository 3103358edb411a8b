import { withOrigin } from '../../src/origin.js'
import { describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backend } from '../../src/backends/osquery.js'
import { astRule, sigma, WIN_PROC } from './helpers.js'

const PROC = "SELECT * FROM process_etw_events WHERE type = 'ProcessStart' AND "
const q = (detection: string, logsource?: string) => {
  const c = backend.compile(sigma(detection, logsource))
  expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return c.query!
}
const refused = (detection: string, logsource?: string) => {
  const c = backend.compile(sigma(detection, logsource))
  expect(c.query).toBeUndefined()
  return c.diagnostics
}

describe('osquery backend: Match shapes (case-insensitive by default)', () => {
  it.each([
    ["Image|endswith: '\\sc.exe'", "path LIKE '%\\sc.exe'"],
    ["Image|startswith: 'C:\\Windows\\'", "path LIKE 'C:\\Windows\\%'"],
    ["CommandLine|contains: ' stop '", "cmdline LIKE '% stop %'"],
    ["Image: 'C:\\Windows\\sc.exe'", "path = 'C:\\Windows\\sc.exe' COLLATE NOCASE"],
    ["CommandLine: '1234'", "cmdline = '1234'"],
    ["CommandLine: ''", "cmdline = ''"],
    ["CommandLine: 'sc*stop'", "cmdline LIKE 'sc%stop'"],
    ["CommandLine: 'sc?exe'", "cmdline LIKE 'sc_exe'"],
    ["CommandLine: '*'", 'cmdline IS NOT NULL'],
    ['CommandLine|contains: "it\'s"', "cmdline LIKE '%it''s%'"],
  ])('%s → %s', (detection, sql) => {
    expect(q(`  sel:\n    ${detection}\n  condition: sel`)).toBe(`${PROC}${sql};`)
  })

  it('escapes LIKE wildcards in literals with ESCAPE, doubling backslashes only then', () => {
    expect(q("  sel:\n    CommandLine|contains: 'C:\\my_dir\\100%'\n  condition: sel")).toBe(
      `${PROC}cmdline LIKE '%C:\\\\my\\_dir\\\\100\\%%' ESCAPE '\\';`,
    )
  })

  it('keeps a trailing backslash literal', () => {
    expect(q("  sel:\n    CommandLine|endswith: 'dir\\'\n  condition: sel")).toBe(`${PROC}cmdline LIKE '%dir\\';`)
  })

  it('non-ASCII letters go through LIKE and NOCASE as they are: both fold ASCII only, as Sigma does', () => {
    // "only ASCII characters are case folded" (https://sqlite.org/c3ref/strlike.html).
    expect(q("  sel:\n    CommandLine|contains: 'Éc'\n  condition: sel")).toBe(`${PROC}cmdline LIKE '%Éc%';`)
    expect(q("  sel:\n    CommandLine: 'straße'\n  condition: sel")).toBe(`${PROC}cmdline = 'straße' COLLATE NOCASE;`)
    for (const v of ['Σ', 'ς', 'İ'])
      expect(q(`  sel:\n    CommandLine|contains: '${v}'\n  condition: sel`)).toBe(`${PROC}cmdline LIKE '%${v}%';`)
  })

  it('emoji and other caseless characters go through LIKE unchanged', () => {
    expect(q("  sel:\n    CommandLine|contains: '😀'\n  condition: sel")).toBe(`${PROC}cmdline LIKE '%😀%';`)
  })
})

describe('osquery backend: cased matches', () => {
  it('uses = for an exact value and GLOB with one-character classes for literal * ? [', () => {
    expect(q("  sel:\n    CommandLine|cased: 'Stop'\n  condition: sel")).toBe(`${PROC}cmdline = 'Stop';`)
    expect(q("  sel:\n    CommandLine|cased|contains: 'a\\*b\\?[c'\n  condition: sel")).toBe(
      `${PROC}cmdline GLOB '*a[*]b[?][[]c*';`,
    )
    expect(q("  sel:\n    CommandLine|cased: 'a?b'\n  condition: sel")).toBe(`${PROC}cmdline GLOB 'a?b';`)
  })

  it('overrides a NOCASE column with COLLATE BINARY', () => {
    expect(
      q("  sel:\n    ServiceName|cased: 'WinDefend'\n  condition: sel", 'product: windows\n  category: service_state'),
    ).toBe("SELECT * FROM services WHERE name = 'WinDefend' COLLATE BINARY;")
  })
})

describe('osquery backend: columns, JSON event data, integers', () => {
  const SYS = 'product: windows\n  service: system'
  it('reaches EventData through json_extract and compares integer columns numerically', () => {
    expect(q('  sel:\n    EventID: 7036\n    param1: Windows Defender\n  condition: sel', SYS)).toBe(
      "SELECT * FROM windows_events WHERE source = 'System' AND eventid = 7036 AND json_extract(data, '$.Data.param1') = 'Windows Defender' COLLATE NOCASE;",
    )
  })
  it('compares a non-canonical integer text as text', () => {
    expect(q("  sel:\n    EventID: '07036'\n  condition: sel", SYS)).toBe(
      "SELECT * FROM windows_events WHERE source = 'System' AND CAST(eventid AS TEXT) = '07036';",
    )
  })
  it('quotes a JSON key with a dot', () => {
    expect(q('  sel:\n    a.b: x\n  condition: sel', SYS)).toContain(
      `json_extract(data, '$.Data."a.b"') = 'x' COLLATE NOCASE`,
    )
  })
  it('refuses a field fixed by the log source', () => {
    expect(refused('  sel:\n    Channel: Security\n  condition: sel', SYS).map((d) => d.code)).toEqual([
      'target/unsupported-field',
    ])
  })
  it('adds the log source conditions: syscall IN for Linux, event_type for macOS', () => {
    expect(
      q("  sel:\n    Image|endswith: '/systemctl'\n  condition: sel", 'product: linux\n  category: process_creation'),
    ).toBe("SELECT * FROM process_events WHERE syscall IN ('execve', 'execveat') AND path LIKE '%/systemctl';")
    expect(
      q("  sel:\n    Image|endswith: '/launchctl'\n  condition: sel", 'product: macos\n  category: process_creation'),
    ).toBe("SELECT * FROM es_process_events WHERE event_type = 'exec' AND path LIKE '%/launchctl';")
  })
  it('picks the most specific log source (ps_script has a fixed event id, in both PowerShell channels)', () => {
    expect(
      q(
        "  sel:\n    ScriptBlockText|contains: 'Stop-Service'\n  condition: sel",
        'product: windows\n  category: ps_script',
      ),
    ).toBe(
      "SELECT * FROM windows_events WHERE source IN ('Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational') AND eventid = 4104 AND json_extract(data, '$.Data.ScriptBlockText') LIKE '%Stop-Service%';",
    )
  })
})

describe('osquery backend: boolean structure and NULL', () => {
  it('guards negated predicates so a NULL column reads as not matching', () => {
    expect(
      q("  sel:\n    Image|endswith: '\\sc.exe'\n  f:\n    CommandLine|contains: query\n  condition: sel and not f"),
    ).toBe(`${PROC}path LIKE '%\\sc.exe' AND NOT (cmdline IS NOT NULL AND cmdline LIKE '%query%');`)
  })
  it('parenthesises OR under AND, and a top-level OR after the fixed conditions', () => {
    expect(q('  a:\n    CommandLine: x\n  b:\n    Image: y\n  c:\n    User: z\n  condition: (a or b) and c')).toBe(
      `${PROC}(cmdline = 'x' COLLATE NOCASE OR path = 'y' COLLATE NOCASE) AND username = 'z' COLLATE NOCASE;`,
    )
    expect(q('  a:\n    CommandLine: x\n  b:\n    Image: y\n  condition: a or b')).toBe(
      `${PROC}(cmdline = 'x' COLLATE NOCASE OR path = 'y' COLLATE NOCASE);`,
    )
  })
  it('neq is present-and-different', () => {
    expect(q('  sel:\n    User|neq: SYSTEM\n  condition: sel')).toBe(
      `${PROC}username IS NOT NULL AND NOT (username IS NOT NULL AND username = 'SYSTEM' COLLATE NOCASE);`,
    )
  })
  it('null and exists', () => {
    expect(q('  sel:\n    User: null\n  condition: sel')).toBe(`${PROC}username IS NULL;`)
    expect(q('  sel:\n    User|exists: true\n  condition: sel')).toBe(`${PROC}username IS NOT NULL;`)
  })
})

describe('osquery backend: regex, cidr, compare, fieldref', () => {
  const SEC = 'product: windows\n  service: security'
  it('regex → regex_match(...) IS NOT NULL', () => {
    expect(q("  sel:\n    CommandLine|re: 'sc(\\.exe)? +stop'\n  condition: sel")).toBe(
      `${PROC}regex_match(cmdline, 'sc(\\.exe)? +stop', 0) IS NOT NULL;`,
    )
  })
  it('the i flag becomes letter classes', () => {
    expect(q("  sel:\n    CommandLine|re|i: 'st[a-c]p\\d'\n  condition: sel")).toBe(
      `${PROC}regex_match(cmdline, '[sS][tT][a-cA-C][pP]\\d', 0) IS NOT NULL;`,
    )
  })
  it.each([
    ['a\\sb', 'white space'],
    ['a.b', "'.'"],
    ['a[^b]c', "'[^b]'"],
    ['(?<=a)b', 'lookbehind'],
    ['é', 'non-ASCII'],
    ['a{', "'{'"],
    ['x'.repeat(257), '256 bytes'],
    ['\\x41', 'i flag', 'i'],
    ['(a)\\1', 'backreference', 'i'],
  ])('refuses /%s/ (%s)', (re, why, flag = '') => {
    const ds = refused(`  sel:\n    CommandLine|re${flag ? `|${flag}` : ''}: '${re}'\n  condition: sel`)
    expect(ds.map((d) => d.code)).toEqual(['target/unsupported-regex'])
    expect(ds[0]!.message).toContain(why)
  })
  it('unbounded repeats of a dot are exact on bytes and kept', () => {
    expect(q("  sel:\n    CommandLine|re: 'a.*b.+c'\n  condition: sel")).toContain("regex_match(cmdline, 'a.*b.+c', 0)")
  })
  it('IPv4 cidr: ends by IN, the rest through a guarded in_cidr_block', () => {
    expect(q("  sel:\n    IpAddress|cidr: '10.1.2.3/8'\n  condition: sel", SEC)).toBe(
      "SELECT * FROM windows_events WHERE source = 'Security' AND (json_extract(data, '$.Data.IpAddress') IN ('10.0.0.0', '10.255.255.255') OR CASE WHEN typeof(json_extract(data, '$.Data.IpAddress')) = 'text' AND regex_match(json_extract(data, '$.Data.IpAddress'), '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$', 0) IS NOT NULL THEN in_cidr_block('10.0.0.0/8', json_extract(data, '$.Data.IpAddress')) ELSE 0 END = 1);",
    )
    expect(q("  sel:\n    IpAddress|cidr: '192.168.1.7/32'\n  condition: sel", SEC)).toContain(
      "json_extract(data, '$.Data.IpAddress') = '192.168.1.7'",
    )
    expect(q("  sel:\n    IpAddress|cidr: '192.168.1.6/31'\n  condition: sel", SEC)).toContain(
      "IN ('192.168.1.6', '192.168.1.7');",
    )
  })
  it('refuses IPv6 cidr', () => {
    expect(refused("  sel:\n    IpAddress|cidr: '::1/128'\n  condition: sel", SEC).map((d) => d.code)).toEqual([
      'target/unsupported-cidr',
    ])
  })
  it('compare: numeric column directly, text only once it reads as a number', () => {
    expect(q('  sel:\n    ProcessId|gt: 100\n  condition: sel')).toBe(`${PROC}pid > 100;`)
    expect(q('  sel:\n    LogonType|lte: 3\n  condition: sel', SEC)).toContain(
      "regex_match(trim(json_extract(data, '$.Data.LogonType'), char(9, 10, 11, 12, 13, 32, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288, 65279)), '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$', 0) IS NOT NULL AND CAST(",
    )
  })
  it('fieldref: cased with =, case-insensitive with COLLATE NOCASE (ASCII folding, as Sigma)', () => {
    expect(q('  sel:\n    SubjectUserName|fieldref|cased: TargetUserName\n  condition: sel', SEC)).toBe(
      "SELECT * FROM windows_events WHERE source = 'Security' AND json_extract(data, '$.Data.SubjectUserName') = json_extract(data, '$.Data.TargetUserName');",
    )
    expect(q('  sel:\n    SubjectUserName|fieldref: TargetUserName\n  condition: sel', SEC)).toBe(
      "SELECT * FROM windows_events WHERE source = 'Security' AND CAST(json_extract(data, '$.Data.SubjectUserName') AS TEXT) = CAST(json_extract(data, '$.Data.TargetUserName') AS TEXT) COLLATE NOCASE;",
    )
  })
})

describe('osquery backend: refusals', () => {
  it('keywords', () => {
    const ds = refused("  keywords:\n    - 'stop'\n  condition: keywords")
    expect(ds.map((d) => d.code)).toEqual(['target/unsupported-keyword'])
  })
  it('a field the table does not have, with its position; every offending field is reported', () => {
    const ds = refused(
      "  sel:\n    ParentImage|endswith: '/bash'\n    OriginalFileName: sc\n  condition: sel",
      'product: linux\n  category: process_creation',
    )
    expect(ds.map((d) => [d.code, d.file, d.target, d.at?.line])).toEqual([
      ['target/unknown-field', 'test.yml', 'osquery', 7],
      ['target/unknown-field', 'test.yml', 'osquery', 8],
    ])
    expect(ds[0]!.message).toContain("'ParentImage'")
  })
  it('a log source with no osquery table, listing the supported ones', () => {
    const ds = refused('  sel:\n    TargetFilename: x\n  condition: sel', 'product: windows\n  category: file_rename')
    expect(ds.map((d) => d.code)).toEqual(['target/unsupported-logsource'])
    expect(ds[0]!.message).toContain('product=windows category=file_rename')
    expect(ds[0]!.message).toContain('linux/file_event, linux/process_creation')
  })
  it('a NUL character in a value', () => {
    const r = astRule({
      kind: 'Match',
      field: 'CommandLine',
      pattern: [{ kind: 'lit', text: 'a\u0000b' }],
      cased: false,
    })
    expect(backend.compile(r).diagnostics.map((d) => d.code)).toEqual(['target/unsupported-value'])
  })
})

describe('osquery backend: Windows activity from Sysmon in windows_events', () => {
  it('a category osquery has no table of its own for is its Sysmon event id', () => {
    const c = backend.compile(
      sigma('  sel:\n    QueryName: x\n  condition: sel', 'product: windows\n  category: dns_query'),
    )
    expect(c.query).toBe(
      "SELECT * FROM windows_events WHERE source = 'Microsoft-Windows-Sysmon/Operational' AND eventid = 22 AND json_extract(data, '$.Data.QueryName') = 'x' COLLATE NOCASE;",
    )
    const r = backend.compile(
      sigma('  sel:\n    TargetObject: x\n  condition: sel', 'product: windows\n  category: registry_event'),
    )
    expect(r.query).toContain('eventid IN (12, 13, 14)')
  })
  it('process creation stays on ETW when its columns hold the rule, else falls back to Sysmon event 1', () => {
    expect(
      backend.compile(sigma("  sel:\n    Image|endswith: '\\sc.exe'\n  condition: sel", WIN_PROC)).query,
    ).toContain('FROM process_etw_events')
    const c = backend.compile(
      sigma(
        "  sel:\n    Image|endswith: '\\sc.exe'\n    ParentImage|endswith: '\\cmd.exe'\n  condition: sel",
        WIN_PROC,
      ),
    )
    // Security 4688 holds both fields (NewProcessName, ParentProcessName): its rows are searched too.
    expect(c.query).toBe(
      "SELECT * FROM windows_events WHERE (source = 'Microsoft-Windows-Sysmon/Operational' AND eventid = 1 AND json_extract(data, '$.Data.Image') LIKE '%\\sc.exe' AND json_extract(data, '$.Data.ParentImage') LIKE '%\\cmd.exe') OR (source = 'Security' AND eventid = 4688 AND json_extract(data, '$.Data.NewProcessName') LIKE '%\\sc.exe' AND json_extract(data, '$.Data.ParentProcessName') LIKE '%\\cmd.exe');",
    )
    expect(c.context?.['logsource']).toBe('windows-sysmon-process-creation')
  })
  it('a rule reading a field Security 4688 does not record (OriginalFileName, Hashes, User) reads Sysmon event 1 only', () => {
    for (const field of ['OriginalFileName', 'Hashes', 'User', 'ParentCommandLine', 'IntegrityLevel']) {
      const c = backend.compile(
        sigma(`  sel:\n    ParentImage|endswith: '\\cmd.exe'\n    ${field}: x\n  condition: sel`, WIN_PROC),
      )
      expect(c.query, field).toContain("source = 'Microsoft-Windows-Sysmon/Operational'")
      expect(c.query, field).not.toContain('4688')
    }
  })
  it("an 'also' record's keys need the log source's data column", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rs-osq-also-')), 'pipeline.yml')
    writeFileSync(
      file,
      'logsources:\n  a:\n    match: { product: x }\n    table: windows_events\n    also:\n      - conditions: { eventid: 4688 }\n        keys: { Image: NewProcessName }\n',
    )
    const c = backend.compile(sigma('  sel:\n    Image: x\n  condition: sel', 'product: x'), { pipeline: file })
    expect(c.diagnostics.map((d) => d.code)).toEqual(['config/pipeline'])
    expect(c.diagnostics[0]!.message).toContain('keys name a data object')
  })
  it('a fallback must name a log source that has none of its own', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rs-osq-fb-')), 'pipeline.yml')
    writeFileSync(
      file,
      'logsources:\n  a:\n    match: { product: x }\n    table: file_events\n    fallback: b\n  b:\n    match: { product: y }\n    table: file_events\n    fallback: a\n',
    )
    const c = backend.compile(sigma('  sel:\n    CommandLine: x\n  condition: sel'), { pipeline: file })
    expect(c.diagnostics.map((d) => d.code)).toEqual(['config/pipeline'])
    expect(c.diagnostics[0]!.message).toContain(
      "log source 'a': its fallback 'b' is not a log source without a fallback",
    )
  })
})

describe('osquery backend: environment', () => {
  it('merges a user pipeline: a new log source and a field override', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-osq-'))
    const file = join(dir, 'pipeline.yml')
    writeFileSync(
      file,
      `fields:\n  CommandLine: cmdline\nlogsources:\n  linux-processes:\n    match: { product: linux, category: process_snapshot }\n    table: processes_custom\n`,
    )
    const bad = backend.compile(sigma('  sel:\n    CommandLine: x\n  condition: sel'), { pipeline: file })
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['config/pipeline'])
    writeFileSync(
      file,
      `logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    table: process_etw_events\n    platform: windows\n    conditions: { type: ProcessStart }\n    fields: { ParentProcessId: ppid, Hostname: username }\n`,
    )
    const file2 = join(dir, 'pipeline2.yml')
    writeFileSync(
      file2,
      `logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    table: process_etw_events\n    platform: windows\n    conditions: { type: ProcessStart }\n    fields: { Hostname: username }\n`,
    )
    const ok = backend.compile(sigma('  sel:\n    Hostname: x\n  condition: sel'), { pipeline: file2 })
    expect(ok.query).toBe(`${PROC}username = 'x' COLLATE NOCASE;`)
  })
  it('rejects a pipeline that maps a field to a column the table does not have', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-osq-'))
    const file = join(dir, 'p.yml')
    writeFileSync(
      file,
      `logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    table: process_etw_events\n    fields: { ParentImage: parent_path }\n`,
    )
    const c = backend.compile(sigma('  sel:\n    CommandLine: x\n  condition: sel'), { pipeline: file })
    expect(c.diagnostics.map((d) => [d.code, d.file])).toEqual([['config/pipeline', file]])
    expect(c.diagnostics[0]!.message).toContain("no column 'parent_path'")
  })

  it('refuses two fields mapped to one column (a row holds one value there)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-osq-'))
    const file = join(dir, 'p.yml')
    writeFileSync(
      file,
      `logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    table: process_etw_events\n    conditions: { type: ProcessStart }\n    fields: { NewProcessName: path }\n`,
    )
    const c = backend.compile(sigma('  sel:\n    Image: a\n    NewProcessName: b\n  condition: sel'), {
      pipeline: file,
    })
    expect(c.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-field'])
    expect(c.diagnostics[0]!.message).toContain("'Image' and 'NewProcessName'")
  })

  it('is deterministic and gives the formats their context', () => {
    const r = sigma("  sel:\n    CommandLine|contains: 'Éß'\n  condition: sel")
    const a = backend.compile(r),
      b = backend.compile(r)
    expect(a).toEqual(b)
    expect(a.context).toMatchObject({
      table: 'process_etw_events',
      platform: 'windows',
      interval: 60,
      evented: true,
    })
  })
})

describe('long OR runs', () => {
  it('are balanced so SQLite accepts more than 1000 alternatives', async () => {
    const { astRule } = await import('../support/rules.js')
    const { verifier } = await import('../../src/verify/osquery.js')
    const { backend } = await import('../../src/backends/osquery.js')
    const items = Array.from({ length: 1500 }, (_, i) => ({
      kind: 'Match' as const,
      field: 'CommandLine',
      pattern: [{ kind: 'any' as const }, { kind: 'lit' as const, text: `x${i}y` }, { kind: 'any' as const }],
      cased: false,
    }))
    const rule = astRule({ kind: 'Or', items })
    const c = backend.compile(rule, {})
    expect(c.query).toBeDefined()
    const v = await verifier.verify(
      c.query!,
      withOrigin([{ CommandLine: 'a x1499y b' }, { CommandLine: 'x1500y' }], rule.logsource),
      {},
    )
    expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(v.matches).toEqual([true, false])
  })
})
