/**
 * The CLI helps a user who guessed: did-you-mean for near misses, a warning for every option that
 * has no effect, `rulesmith help <command>`, config errors at their line and column (exit 2, once),
 * no green run on paths without rules, declared refusals honoured by compile and bundle.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkDefenderRule } from '../../src/formats/consumers/defender.js'
import { checkElasticRule } from '../../src/formats/consumers/elastic.js'
import { checkSentinelArm, checkSentinelYaml } from '../../src/formats/consumers/sentinel.js'
import { checkSavedSearches } from '../../src/formats/consumers/splunk.js'
import { nearest } from '../../src/suggest.js'
import { cli, ROOT } from '../support/cli.js'

const SC_STOP = 'rules/windows/process_creation/proc_creation_win_sc_service_stop.yml'
const SYSTEMCTL_STOP = 'rules/linux/process_creation/proc_creation_lnx_systemctl_service_stop.yml'
const SYSTEM_7036 = 'rules/windows/system/win_system_critical_service_stopped.yml'
const temp = (name: string) => mkdtempSync(join(tmpdir(), `rulesmith-${name}-`))

describe('did you mean', () => {
  it('finds the name meant: case, prefix, a typo; nothing for a stranger', () => {
    expect(nearest('KQL', ['spl', 'kql', 'eql', 'osquery'])).toBe('kql')
    expect(nearest('osq', ['spl', 'kql', 'eql', 'osquery'])).toBe('osquery')
    expect(nearest('sentinal', ['defender', 'sentinel'])).toBe('sentinel')
    expect(nearest('savedsearch', ['default', 'savedsearches'])).toBe('savedsearches')
    expect(nearest('qradar', ['spl', 'kql', 'eql', 'osquery'])).toBeUndefined()
  })

  it.each([
    [['compile', '--target', 'splunk', SC_STOP], "not 'splunk' (did you mean 'spl'?)"],
    [['compile', '--target', 'KQL', SC_STOP], "not 'KQL' (did you mean 'kql'?)"],
    [['compile', '--target', 'sentinel', SC_STOP], "(did you mean 'kql --variant sentinel'?)"],
    [['compile', '--target', 'elastic', SC_STOP], "(did you mean 'eql'?)"],
    [['test', '--target', 'splunk', SC_STOP], "(did you mean 'spl'?)"],
    [['compile', '--target', 'kql', '--variant', 'sentinal', SC_STOP], "(did you mean 'sentinel'?)"],
    [['compile', '--target', 'spl', '--format', 'savedsearch', SC_STOP], "(did you mean 'savedsearches'?)"],
    [['compile', '--target', 'all', '--format', 'jsn', SC_STOP], "(did you mean 'json'?)"],
    [['validate', '--format', 'sarf', SC_STOP], "(did you mean 'sarif'?)"],
    [['compile', '--taget', 'kql', SC_STOP], "unknown option '--taget' (did you mean '--target'?)"],
    [['valdate', SC_STOP], "unknown command 'valdate' (did you mean 'validate'?)"],
    [['help', 'compil'], "unknown command 'compil' (did you mean 'compile'?)"],
  ])('%j: a usage error (exit 2) with the fix', (args, hint) => {
    const r = cli(args)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(hint)
  })
})

describe('options that have no effect are named', () => {
  it('--variant on a target without variants, --format that only some targets have, --no-header with json', () => {
    const variant = cli(['compile', '--target', 'eql', '--variant', 'sentinel', '--no-header', SC_STOP])
    expect(variant.code).toBe(0)
    expect(variant.stderr).toContain(
      'rulesmith compile: warning: --variant sentinel has no effect: eql has no variants (only spl: cim; kql: asim, defender, sentinel)',
    )
    const format = cli(['compile', '--target', 'all', '--format', 'sentinel', SC_STOP])
    expect(format.code).toBe(0)
    expect(format.stderr).toContain(
      'warning: --format sentinel is a format of kql only; spl, eql, osquery print their default format',
    )
    const json = cli(['compile', '--target', 'eql', '--format', 'json', '--no-header', SC_STOP])
    expect(json.stderr).toContain('warning: --no-header has no effect with --format json')
    const quiet = cli(['compile', '--target', 'kql', '--variant', 'sentinel', SC_STOP])
    expect(quiet.stderr).toBe('')
  })

  it('rulesmith match: --pipeline and --variant without --target, --variant on a target without variants', () => {
    const dir = temp('match')
    const events = join(dir, 'events.jsonl')
    writeFileSync(events, '{"Image":"C:\\\\Windows\\\\System32\\\\sc.exe","CommandLine":"sc stop spooler"}\n')
    const r = cli(['match', '--events', events, '--variant', 'sentinel', SC_STOP])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('"event":0')
    expect(r.stderr).toBe(
      'rulesmith match: warning: --variant has no effect without --target (the reference evaluator reads no query)\n',
    )
    const eql = cli(['match', '--events', events, '--target', 'eql', '--variant', 'sentinel', SC_STOP])
    expect(eql.stderr).toContain('warning: --variant sentinel has no effect: eql has no variants')
  })

  it('rulesmith test: --variant on a target without variants', () => {
    const r = cli(['test', '--target', 'eql', '--variant', 'sentinel', SYSTEMCTL_STOP])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('warning: --variant sentinel has no effect: eql has no variants')
  })
})

describe('rulesmith help', () => {
  it('help <command> prints that command’s help, as --help does', () => {
    for (const name of ['validate', 'compile', 'test', 'match', 'bundle', 'targets', 'init']) {
      const help = cli(['help', name])
      expect(help.code, name).toBe(0)
      expect(help.stdout, name).toMatch(new RegExp(`^rulesmith ${name}\\b`))
      expect(help.stdout).toBe(cli([name, '--help']).stdout)
    }
    expect(cli(['help']).stdout).toContain("Run 'rulesmith help <command>'")
  })
})

describe('configuration errors', () => {
  it('are reported once, at the line and column of the mistake, and stop the run with exit 2', () => {
    const dir = temp('config')
    mkdirSync(join(dir, 'rules'))
    copyFileSync(join(ROOT, SC_STOP), join(dir, 'rules', 'a.yml'))
    copyFileSync(join(ROOT, SC_STOP), join(dir, 'rules', 'b.yml'))
    writeFileSync(
      join(dir, '.rulesmith.yml'),
      'targets: [spl, splunk]\nunsuported: error\npipelines:\n  kql: pipelines/kql.yml\nvariants:\n  kql: sentinal\n',
    )
    for (const args of [
      ['validate', 'rules/'],
      ['compile', '--target', 'kql', 'rules/'],
      ['test', 'rules/'],
      ['bundle', '--out', 'release', 'rules/'],
    ]) {
      const r = cli(args, { cwd: dir })
      expect(r.code, args[0]).toBe(2)
      expect(r.stdout, args[0]).toBe('')
      expect(r.stderr.split('\n'), args[0]).toEqual([
        ".rulesmith.yml:1:16: error: targets: unknown target 'splunk' (known: spl, kql, eql, osquery) (did you mean 'spl'?) [config/invalid]",
        ".rulesmith.yml:2:1: error: unknown key 'unsuported' (did you mean 'unsupported'?) [config/invalid]",
        `.rulesmith.yml:4:8: error: pipeline file 'pipelines/kql.yml' for kql does not exist (looked for ${join(dir, 'pipelines/kql.yml')}) [config/pipeline]`,
        ".rulesmith.yml:6:8: error: variants: kql has no variant 'sentinal' (it has: asim, defender, sentinel) (did you mean 'sentinel'?) [config/invalid]",
        `rulesmith ${args[0]}: the config has errors; nothing was run`,
        '',
      ])
    }
    expect(existsSync(join(dir, 'release'))).toBe(false)
  })

  it('a pipeline file that exists but is broken is reported once, not once per rule', () => {
    const dir = temp('pipeline-once')
    mkdirSync(join(dir, 'rules'))
    for (const n of ['a', 'b', 'c']) copyFileSync(join(ROOT, SC_STOP), join(dir, 'rules', `${n}.yml`))
    writeFileSync(join(dir, 'kql.yml'), 'logsources: 7\n')
    writeFileSync(join(dir, '.rulesmith.yml'), 'pipelines:\n  kql: kql.yml\n')
    const r = cli(['compile', '--target', 'kql', 'rules/'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr.match(/\[config\/pipeline\]/g)).toHaveLength(1)
  })
})

describe('paths that hold no rules', () => {
  it.each([['validate'], ['compile', '--target', 'kql'], ['test'], ['bundle', '--out', 'release']])(
    '%s: exit 1 with a clear message; --allow-empty accepts it',
    (...command) => {
      const dir = temp('empty')
      mkdirSync(join(dir, 'empty'))
      const r = cli([...command, 'empty'], { cwd: dir })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^empty:1:1: error: no rules found (in|under) '?empty'?.*(--allow-empty)/m)
      const allowed = cli([...command, '--allow-empty', 'empty'], { cwd: dir })
      expect(allowed.code, allowed.stderr).toBe(0)
    },
  )
})

describe('refusals declared in tests files', () => {
  it('bundle of the shipped pack passes without --skip-unsupported; the manifest says which were declared', () => {
    const out = join(temp('bundle'), 'release')
    const r = cli(['bundle', '--out', out, 'rules/'])
    expect(r.code, r.stderr).toBe(0)
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      rules: { file: string; skipped: { target: string; declared?: string }[] }[]
    }
    const skipped = manifest.rules.flatMap((x) => x.skipped)
    expect(skipped.length).toBeGreaterThan(10)
    expect(skipped.every((x) => typeof x.declared === 'string' && x.declared.length > 0)).toBe(true)
    expect(r.stderr).toContain(`; ${skipped.length} target refusals declared in tests files\n`)
    const system = manifest.rules.find((x) => x.file === SYSTEM_7036)!
    // kql is compiled twice: on Sentinel's tables for the sentinel and arm formats (WindowsEvent
    // holds the System channel), on Defender's for the others (no table: a declared refusal).
    expect(system.skipped).toEqual([
      expect.objectContaining({ target: 'kql', formats: ['default', 'defender'], declared: expect.any(String) }),
    ])
    // Every artifact passes its consumer's schema or validation rules (src/formats/consumers/).
    const checks: Record<string, (text: string) => { message: string }[]> = {
      'kql/sentinel': checkSentinelYaml,
      'kql/arm': checkSentinelArm,
      'kql/defender': checkDefenderRule,
      'eql/elastic': checkElasticRule,
      'spl/savedsearches': (t) => checkSavedSearches(t, 'es'),
    }
    const artifacts = (
      manifest as unknown as { rules: { artifacts: { target: string; format: string; path: string }[] }[] }
    ).rules.flatMap((x) => x.artifacts)
    const checked = artifacts.filter((a) => checks[`${a.target}/${a.format}`])
    expect(checked.length).toBeGreaterThan(100)
    const violations = checked.flatMap((a) =>
      checks[`${a.target}/${a.format}`]!(readFileSync(join(out, a.path), 'utf8')).map((v) => `${a.path}: ${v.message}`),
    )
    expect(violations).toEqual([])
  })

  it('an undeclared refusal still fails the bundle (nothing written)', () => {
    const dir = temp('undeclared')
    mkdirSync(join(dir, 'rules'))
    copyFileSync(join(ROOT, SYSTEM_7036), join(dir, 'rules', 'system.yml'))
    const r = cli(['bundle', '--out', 'release', 'rules/'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /rules\/system\.yml:\d+:\d+: error: kql \(defender\) has no table .*\[target\/unsupported-logsource\]/,
    )
    expect(existsSync(join(dir, 'release'))).toBe(false)
  })
})
