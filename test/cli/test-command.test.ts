import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

/** A rule the Defender tables compile and Sentinel's SecurityEvent 4688 cannot (no OriginalFileName). */
const RULE = `title: Renamed sc
id: 3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99
logsource: { product: windows, category: process_creation }
detection:
    sel:
        OriginalFileName: sc.exe
        CommandLine|contains: ' stop '
    condition: sel
level: high
`

/**
 * A rule Defender's DeviceProcessEvents compiles and Sentinel's tables cannot (Sentinel's family
 * has no table of Linux process creation; its Windows process creation falls back to Sysmon 1 in
 * WindowsEvent, which holds every field).
 */
const LINUX_RULE = RULE.replace('product: windows', 'product: linux').replace('        OriginalFileName: sc.exe\n', '')

function repo(refused: string, rule = RULE): string {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-test-cmd-'))
  writeFileSync(join(dir, 'r.yml'), rule)
  writeFileSync(
    join(dir, 'r.tests.yml'),
    `rule: 3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99
match:
  - name: renamed copy stops a service
    event: { OriginalFileName: sc.exe, Image: 'C:\\\\Users\\\\Public\\\\x.exe', CommandLine: 'x.exe stop spooler' }
nomatch:
  - name: query
    event: { OriginalFileName: sc.exe, Image: 'C:\\\\Users\\\\Public\\\\x.exe', CommandLine: 'x.exe query spooler' }
${refused}`,
  )
  return dir
}

describe('rulesmith test', () => {
  it('reads expected refusals per target variant: kql is the default variant, kql/sentinel that variant', () => {
    const dir = repo(
      'refused:\n  kql/sentinel: "Sentinel has no table of Linux process creation"\n  osquery: "no OriginalFileName column"\n',
      LINUX_RULE,
    )
    const defender = cli(['test', '--target', 'kql', dir])
    expect(defender.code).toBe(0)
    expect(defender.stdout).toContain('tests: 1 passed, 0 failed')
    const sentinel = cli(['test', '--target', 'kql', '--variant', 'sentinel', dir])
    expect(sentinel.code).toBe(0)
    expect(sentinel.stdout).toMatch(/r\.yml\s+2\s+ok\s+refused/)
  })

  it('fails a refusal nobody declared, and a declared refusal that no longer happens', () => {
    const undeclared = cli(['test', '--target', 'kql', '--variant', 'sentinel', repo('', LINUX_RULE)])
    expect(undeclared.code).toBe(1)
    expect(undeclared.stderr).toContain('[target/unsupported-logsource]')
    const stale = cli(['test', '--target', 'kql', repo('refused:\n  kql: "outdated"\n')])
    expect(stale.code).toBe(1)
    expect(stale.stderr).toContain(
      'kql compiles this rule, but the tests file lists it under refused ("outdated"); remove that line [test/expected-refusal]',
    )
  })

  it('rejects refusal keys that name no target, and --variant without one target', () => {
    const bad = cli(['test', repo('refused:\n  kusto: "x"\n')])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(
      "refused: 'kusto' is not a target (spl, kql, eql, osquery) or target/variant [test/invalid]",
    )
    expect(cli(['test', '--variant', 'sentinel', 'rules/']).code).toBe(2)
  })
})

describe('rulesmith validate and declared refusals', () => {
  it('counts a refusal the tests file declares instead of reporting it; an undeclared one stays a finding', () => {
    // osquery's std::regex reads \s as ASCII white space only: refused there, compiled elsewhere.
    const rule = RULE.replace("CommandLine|contains: ' stop '", "CommandLine|re: '\\sstop\\s'")
    const declared = cli(['validate', repo("refused:\n  osquery: 'std::regex reads \\s as ASCII white space'\n", rule)])
    expect(declared.code).toBe(0)
    expect(declared.stderr).not.toContain('osquery cannot express')
    expect(declared.stderr).toContain(
      '1 rule in 1 file: 0 errors, 0 warnings; 1 target refusal declared in tests files',
    )
    const undeclared = cli(['validate', repo('', rule)])
    expect(undeclared.code).toBe(0)
    expect(undeclared.stderr).toMatch(
      /warning: osquery cannot express the regular expression.*\[target\/unsupported-regex\]/,
    )
  })
})
