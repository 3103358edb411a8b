import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const SC_STOP = 'rules/windows/process_creation/proc_creation_win_sc_service_stop.yml'
const SYSTEM_7036 = 'rules/windows/system/win_system_critical_service_stopped.yml'

describe('rulesmith compile', () => {
  it('prints the query of each rule and exits 0', () => {
    const r = cli(['compile', '--target', 'kql', SC_STOP])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      new RegExp(
        `^// rule: 6c6e382e-599f-48e5-b691-3ea9d2ac9d1d\n// title: "Service Stopped Via Sc.EXE"\n// file: ${SC_STOP}\n// target: kql\nDeviceProcessEvents\n\\| where `,
      ),
    )
    expect(r.stderr).toBe('')
    const bare = cli(['compile', '--target', 'kql', '--no-header', SC_STOP])
    expect(bare.stdout).toMatch(/^DeviceProcessEvents\n\| where /)
    expect(r.stdout.split('\n').slice(4).join('\n')).toBe(bare.stdout)
  })

  it('exits 1 for a rule a target refuses, naming the construct; --skip-unsupported lists it and exits 0', () => {
    // The rule without its tests file: nobody declared the refusal.
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-undeclared-'))
    const undeclared = join(dir, 'win_system_critical_service_stopped.yml')
    copyFileSync(SYSTEM_7036, undeclared)
    const refused = cli(['compile', '--target', 'kql', undeclared])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toBe('')
    expect(refused.stderr).toMatch(
      /win_system_critical_service_stopped\.yml:\d+:\d+: error: kql \(defender\) has no table for log source product=windows service=system.*\[target\/unsupported-logsource\]/,
    )
    const skipped = cli(['compile', '--target', 'kql', '--no-header', '--skip-unsupported', undeclared, SC_STOP])
    expect(skipped.code).toBe(0)
    expect(skipped.stdout).toMatch(/^DeviceProcessEvents/)
    expect(skipped.stderr).toContain(`kql\t${undeclared}\ttarget/unsupported-logsource`)
  })

  it('a refusal declared in the tests file is expected: listed and counted, not an error', () => {
    const r = cli(['compile', '--target', 'kql', '--no-header', SYSTEM_7036, SC_STOP])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^DeviceProcessEvents/)
    expect(r.stderr).toContain(
      `refused as declared in tests files, target\tfile\treason:\n  kql\t${SYSTEM_7036}\ttarget/unsupported-logsource\n`,
    )
    expect(r.stderr).toContain('2 rules in 2 files: 0 errors, 0 warnings; 1 target refusal declared in tests files')
    expect(r.stderr).not.toContain('error:')
  })

  it('renders a user template with the documented variables', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-template-'))
    const template = join(dir, 'mine.txt.hbs')
    writeFileSync(template, '{{rule.id}} {{rule.level}} {{join rule.attack.techniques ","}} {{target}}\n{{query}}\n')
    const r = cli(['compile', '--target', 'spl', '--template', template, SC_STOP])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^[0-9a-f-]{36} \w+ T1489 spl$/)
    expect(r.stdout).toContain('Image="*\\\\sc.exe"')
  })

  it('names missing formats and bad targets as usage errors (exit 2)', () => {
    const bad = cli(['compile', '--target', 'spl', '--format', 'nope', SC_STOP])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      "target spl has no format 'nope' (it has: default, savedsearches, savedsearches-core, json)",
    )
    expect(cli(['compile', '--target', 'sql', SC_STOP]).code).toBe(2)
    expect(cli(['compile', SC_STOP]).code).toBe(2)
  })

  it('is deterministic: the same input gives byte-identical output', () => {
    const a = cli(['compile', '--target', 'all', '--skip-unsupported', 'rules/'])
    const b = cli(['compile', '--target', 'all', '--skip-unsupported', 'rules/'])
    expect(a.code).toBe(0)
    expect(a.stdout.length).toBeGreaterThan(1000)
    expect(b.stdout).toBe(a.stdout)
  })
})

describe('terminal behaviour', () => {
  it('colours diagnostics only when asked for a colour terminal, never with NO_COLOR', () => {
    const plain = cli(['validate', '--no-compile', 'test/fixtures/broken/unknown_modifier.yml'])
    expect(plain.stderr).not.toContain('\u001b[')
    const forced = cli(['validate', '--no-compile', 'test/fixtures/broken/unknown_modifier.yml'], {
      env: { NO_COLOR: '', FORCE_COLOR: '1' },
    })
    expect(forced.stderr).toContain('\u001b[31m')
  })
})

describe('rulesmith targets', () => {
  it('lists every target with its formats and log sources, variants included', () => {
    const r = cli(['targets', '--json'])
    expect(r.code).toBe(0)
    const info = JSON.parse(r.stdout) as { id: string; formats: string[]; logsources: string[] }[]
    expect(info.map((t) => t.id)).toEqual(['spl', 'kql', 'eql', 'osquery'])
    expect(info.find((t) => t.id === 'kql')!.formats).toEqual(['arm', 'default', 'defender', 'sentinel'])
    expect(info.find((t) => t.id === 'kql')!.logsources).toContain(
      'defender: windows-process-creation (product: windows, category: process_creation)',
    )
    expect(info.find((t) => t.id === 'kql')!.logsources.some((l) => l.startsWith('sentinel: '))).toBe(true)
    const spl = info.find((t) => t.id === 'spl')!.logsources
    expect(spl).toContain('windows-process-creation (product: windows, category: process_creation)')
    expect(spl).toContain('cim: windows-process-creation (product: windows, category: process_creation)')
    for (const t of info) expect(t.logsources.length).toBeGreaterThan(3)
  })
})

describe('pipelines', () => {
  it('a broken --pipeline file is an environment error (exit 2) on every target, one line per diagnostic', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-pipeline-'))
    const bad = join(dir, 'bad.yml')
    writeFileSync(bad, 'fields: [1,2\n')
    for (const target of ['spl', 'kql', 'eql', 'osquery']) {
      const r = cli(['compile', '--target', target, '--pipeline', bad, SC_STOP])
      expect(r.code, target).toBe(2)
      expect(r.stderr, target).toMatch(/\[config\/pipeline\]\n/)
      for (const line of r.stderr.trim().split('\n'))
        expect(line, target).toMatch(/^\S+:\d+:\d+: (error|warning): .* \[[\w/-]+\]$|^\d+ rules? in \d+ files?: /)
    }
  })
})

describe('broken templates and configs', () => {
  it('a template that does not parse, or names an unknown variable, is a positioned config/template error (exit 2), once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-badtpl-'))
    const unclosed = join(dir, 'unclosed.hbs')
    writeFileSync(unclosed, '{{#if rule.id}}\n{{query}}\n')
    const r1 = cli(['compile', '--target', 'spl', '--template', unclosed, 'rules/windows/process_creation/'])
    expect(r1.code).toBe(2)
    expect(r1.stderr).toContain(`${unclosed}:3:1: error: template does not parse: Expecting`)
    expect(r1.stderr.match(/\[config\/template\]/g)).toHaveLength(1)
    const unknown = join(dir, 'unknown.hbs')
    writeFileSync(unknown, '{{rule.nope}} {{query}}\n')
    const r2 = cli(['compile', '--target', 'spl', '--template', unknown, SC_STOP])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain(`${unknown}:1:3: error: template uses 'nope', which is not a variable here`)
    for (const r of [r1, r2]) expect(r.stderr).not.toContain('internal error')
  })

  it('a config path that is a folder is unreadable (exit 2), not invalid YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-cfgdir-'))
    const r = cli(['validate', '--no-compile', '--config', dir, SC_STOP])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`error: cannot read config '${dir}': EISDIR [io/unreadable]`)
  })
})
