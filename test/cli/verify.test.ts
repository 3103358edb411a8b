/** `rulesmith verify`: any query text against a rule; exit 0 agree, 1 disagree, 2 usage. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const RULE = 'rules/windows/process_creation/proc_creation_win_sc_service_stop.yml'
const dir = mkdtempSync(join(tmpdir(), 'rulesmith-verify-'))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('rulesmith verify', () => {
  const compiled = cli(['compile', '--target', 'spl', RULE]).stdout
  it('agrees with the query rulesmith compiles (tests file plus generated events): exit 0', () => {
    expect(compiled).toContain('EventCode=1 ')
    const r = cli(['verify', '--target', 'spl', '--query', file('ok.spl', compiled), RULE])
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^verify: the spl query agrees with the rule on \d+ events\n$/)
    expect(r.code).toBe(0)
  })
  it('prints each disagreeing event with both answers and exits 1 (a hand-edited EventCode)', () => {
    const r = cli([
      'verify',
      '--target',
      'spl',
      '--query',
      file('bad.spl', compiled.replace('EventCode=1 ', 'EventCode=5 ')),
      RULE,
    ])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(
      /event \d+ \(.*proc_creation_win_sc_service_stop\.tests\.yml: 'Atomic Red Team T1489 test 1 — sc\.exe stop spooler'\): rule selects it, query does not select it\n  \{"Image"/,
    )
    expect(r.stdout).toMatch(
      /rule does not select it, query selects it\n  \{.*"Channel":"Microsoft-Windows-Sysmon\/Operational","EventID":5\}/,
    )
    expect(r.stdout).toMatch(/verify: the spl query disagrees with the rule on \d+ of \d+ events\n$/)
  })
  it('uses the given events, each at its line: another converter’s query from stdin', () => {
    const events = file(
      'events.jsonl',
      [
        '{"Image": "C:\\\\Windows\\\\sc.exe", "CommandLine": "sc query x"}',
        '',
        '{"Image": "C:\\\\Windows\\\\sc.exe", "CommandLine": "sc stop x", "_logsource": {"product": "windows", "category": "file_event"}}',
      ].join('\n'),
    )
    const kql = 'DeviceProcessEvents\n| where FileName =~ "sc.exe"'
    const r = cli(['verify', '--target', 'kql', '--query', '-', '--events', events, RULE], { input: kql })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe(
      `event 0 (${events}:1): rule does not select it, query selects it\n  {"Image":"C:\\\\Windows\\\\sc.exe","CommandLine":"sc query x"}\nverify: the kql query disagrees with the rule on 1 of 2 events\n`,
    )
  })
  it('a query the verifier cannot parse is a finding (exit 1) with its diagnostic', () => {
    const r = cli(['verify', '--target', 'eql', '--query', file('bad.eql', 'process where (('), RULE])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('verify: the eql query could not be run\n')
    expect(r.stderr).toMatch(
      /proc_creation_win_sc_service_stop\.yml:1:1: error: eql: cannot parse the query at offset \d+: .* \[verify\/parse\]/,
    )
  })
  it.each([
    [['verify', '--query', 'x', RULE], '--target is required'],
    [['verify', '--target', 'sql', '--query', 'x', RULE], "--target must be one of spl, kql, eql, osquery, not 'sql'"],
    [['verify', '--target', 'spl', RULE], '--query FILE is required'],
    [
      ['verify', '--target', 'spl', '--query', '/nonexistent/q.spl', RULE],
      "cannot read the query file '/nonexistent/q.spl': ENOENT",
    ],
    [['verify', '--target', 'spl', '--query', '-'], 'give exactly one rule file'],
  ])('usage errors exit 2: %j', (args, message) => {
    const r = cli(args)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(message)
  })
  it('--help shows the synopsis and examples', () => {
    const r = cli(['verify', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('rulesmith verify --target T [--variant V] --query FILE [--events FILE.jsonl] RULE')
    expect(r.stdout).toContain('Examples:')
  })
})
