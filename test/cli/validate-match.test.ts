import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

describe('rulesmith validate', () => {
  it('reports each broken rule with its exact diagnostic, sorted, and exits 1', () => {
    const r = cli(['validate', '--no-compile', 'test/fixtures/broken'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr)
      .toBe(`test/fixtures/broken/bad_condition_indent.yml:9:9: error: 'condition' is indented inside 'selection'; it must be a key of detection, at the same indentation as 'selection' [rule/misplaced-condition]
test/fixtures/broken/bad_yaml.yml:8:1: error: invalid YAML: unexpected end of the stream within a double quoted scalar [yaml/syntax]
test/fixtures/broken/duplicate_id_b.yml:2:5: error: id 5e5e5e5e-1111-4222-8333-944444444444 is also used by test/fixtures/broken/duplicate_id_a.yml:2 [rule/duplicate-id]
test/fixtures/broken/legacy_collection.yml:1:1: error: 'action: global' rule collections are legacy Sigma (v1) and not supported; write each rule as a document of its own [rule/legacy-collection]
test/fixtures/broken/undefined_identifier.yml:9:34: error: condition refers to 'filter', which is not defined in detection [rule/undefined-identifier]
test/fixtures/broken/unknown_modifier.yml:8:9: error: unknown modifier 'contain' on field 'CommandLine' (did you mean 'contains'?) [rule/unknown-modifier]
test/fixtures/broken/wrong_types.yml:1:8: error: title must be string [rule/schema]
test/fixtures/broken/wrong_types.yml:2:5: error: id must be string [rule/schema]
test/fixtures/broken/wrong_types.yml:3:9: error: status must be one of "stable", "test", "experimental", "deprecated", "unsupported" [rule/schema]
test/fixtures/broken/wrong_types.yml:4:12: error: logsource must be object [rule/schema]
test/fixtures/broken/wrong_types.yml:9:8: error: level must be one of "informational", "low", "medium", "high", "critical" [rule/schema]
test/fixtures/broken/wrong_types.yml:11:7: error: tag "attack.T1489" must be lower-case 'namespace.name' (letters, digits, _ . -) [rule/invalid-tag]
test/fixtures/broken/wrong_types.yml:12:7: error: 'attack.t14890' is not an ATT&CK tactic, technique (attack.t1234 or attack.t1234.001), group, software or campaign [rule/invalid-attack-tag]
test/fixtures/broken/wrong_types.yml:13:7: error: date '2024-02-30' is not a real calendar day [rule/invalid-date]
2 rules in 8 files: 14 errors, 0 warnings
`)
  })

  it('prints JSON with 1-based positions', () => {
    const r = cli(['validate', '--no-compile', '--format', 'json', 'test/fixtures/broken/unknown_modifier.yml'])
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout)
    expect(out.diagnostics).toEqual([
      {
        file: 'test/fixtures/broken/unknown_modifier.yml',
        line: 8,
        col: 9,
        severity: 'error',
        code: 'rule/unknown-modifier',
        message: "unknown modifier 'contain' on field 'CommandLine' (did you mean 'contains'?)",
      },
    ])
    expect(out.errors).toBe(1)
  })

  it('exits 2 for an unreadable path and for a bad flag, without a stack trace', () => {
    const missing = cli(['validate', 'no/such/dir'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain(
      "no/such/dir:1:1: error: cannot read 'no/such/dir': no such file or folder [io/unreadable]",
    )
    const bad = cli(['validate', '--frobnicate', 'rules'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("unknown option '--frobnicate'")
    for (const r of [missing, bad]) expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('has --help with examples on every command', () => {
    for (const c of ['validate', 'compile', 'test', 'match', 'bundle', 'targets']) {
      const r = cli([c, '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`rulesmith ${c}`))
    }
    expect(cli(['--help']).stdout).toContain('Examples:')
    expect(cli(['nope']).code).toBe(2)
  })
})

describe('rulesmith match', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-match-'))
  const ruleFile = join(dir, 'r.yml')
  writeFileSync(
    ruleFile,
    `title: sc stop
id: 9b2c1d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e
logsource: { product: windows, category: process_creation }
detection:
    sel:
        Image|endswith: '\\sc.exe'
        CommandLine|contains: ' stop '
    condition: sel
level: low
`,
  )
  const events = join(dir, 'events.jsonl')
  writeFileSync(
    events,
    [
      JSON.stringify({ Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe stop spooler' }),
      JSON.stringify({ Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe query spooler' }),
      '',
      JSON.stringify({ Image: 'C:\\WINDOWS\\SYSTEM32\\SC.EXE', CommandLine: 'SC STOP WinDefend' }),
    ].join('\n'),
  )

  it('prints one JSON line per match with the 0-based line index', () => {
    const r = cli(['match', '--events', events, ruleFile])
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      [
        '{"rule":"9b2c1d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","title":"sc stop","event":0}',
        '{"rule":"9b2c1d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e","title":"sc stop","event":3}',
        '',
      ].join('\n'),
    )
  })

  it('reports a broken events line with its position and exits 2', () => {
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, '{"a":1}\n{not json}\n')
    const r = cli(['match', '--events', bad, ruleFile])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/bad\.jsonl:2:\d+: error: invalid JSON/)
  })

  it('needs --events', () => {
    expect(cli(['match', ruleFile]).code).toBe(2)
  })
})
