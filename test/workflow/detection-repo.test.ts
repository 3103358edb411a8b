/**
 * The sample detection repository (test/fixtures/detection-repo) exercised end to end through the
 * built CLI, as a detection team would run it: the pre-commit hook on a changed file, SARIF and
 * GitHub output for CI, and release bundles (reproducible, versioned, atomic).
 */
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import AjvModule from 'ajv'
import yaml from 'js-yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { formatsOf } from '../../src/formats/render.js'
import { listFiles, removeSampleRepos, read, ROOT, rulesmith, sampleRepo, sha256 } from './helpers.js'

const SC = 'rules/windows/process_creation/proc_creation_win_sc_stop_service.yml'
const NET = 'rules/windows/process_creation/proc_creation_win_net_stop_service.yml'
const TASKKILL = 'rules/windows/process_creation/proc_creation_win_taskkill_service_process.yml'
const SC_ID = '0d1e3c7a-52a4-4f0e-9a55-2f6b1c9e7a01'
const NET_ID = '5b8f2e14-9c3d-4d6a-8e27-7a1f0b3c9d02'
const TASKKILL_ID = '7e3b9f51-0a6c-4d28-b94e-1f5d2c8a6e04'

/** A new rule file whose id repeats the sc.exe rule's, as a copy-paste in a pull request would. */
const duplicateOfSc = (title = 'Service Stopped Via Sc.EXE Config Verb') => `title: ${title}
id: ${SC_ID}
status: test
description: Copied from the sc.exe rule and edited, with the id left as it was.
author: rulesmith sample repo
date: 2026-11-27
tags:
  - attack.impact
  - attack.t1489
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: ' config '
  condition: selection
level: low
`

// The CLI is built once for the whole run by test/support/global-setup.ts (vitest.config.ts).
afterAll(removeSampleRepos)

describe('pre-commit: the hook from .pre-commit-hooks.yaml on a changed file', () => {
  interface Hook {
    id: string
    entry: string
    language: string
    files: string
    exclude: string
    pass_filenames: boolean
    require_serial: boolean
  }
  const hooks = yaml.load(read(join(ROOT, '.pre-commit-hooks.yaml'))) as Hook[]
  const hook = hooks.find((h) => h.id === 'rulesmith-validate')!

  /** What pre-commit does: filter the staged files by files/exclude, then run entry + args + files. */
  const runHook = (repo: string, args: string[], staged: string[]) => {
    const files = staged.filter((f) => new RegExp(hook.files).test(f) && !new RegExp(hook.exclude).test(f))
    const [bin, ...entryArgs] = hook.entry.split(' ')
    expect(bin).toBe('rulesmith')
    return { files, run: rulesmith(repo, ...entryArgs, ...args, ...(hook.pass_filenames ? files : [])) }
  }

  it('is a node hook running rulesmith validate on the files passed, in one process', () => {
    expect(hook).toMatchObject({
      language: 'node',
      entry: 'rulesmith validate',
      pass_filenames: true,
      require_serial: true,
    })
    const pkg = JSON.parse(read(join(ROOT, 'package.json'))) as { bin: Record<string, string> }
    expect(pkg.bin['rulesmith']).toBeDefined()
  })

  it('passes only rule files: not sample-event files, dot files or other files', () => {
    const repo = sampleRepo()
    const staged = [
      NET,
      'rules/windows/process_creation/proc_creation_win_net_stop_service.tests.yml',
      '.rulesmith.yml',
      '.github/workflows/ci.yml',
      'README.md',
    ]
    const { files, run } = runHook(repo, [], staged)
    expect(files).toEqual([NET])
    expect(run.code).toBe(0)
  })

  it('with --all-from, catches a changed file whose id is already used by an unchanged file', () => {
    const repo = sampleRepo()
    const added = 'rules/windows/process_creation/proc_creation_win_sc_config_service.yml'
    writeFileSync(join(repo, added), duplicateOfSc())
    const { files, run } = runHook(repo, ['--all-from', 'rules/'], [added])
    expect(files).toEqual([added])
    expect(run.code).toBe(1)
    const errors = run.stderr.split('\n').filter((l) => l.includes(': error: '))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      new RegExp(
        `^${added.replace(/\./g, '\\.')}:\\d+:\\d+: error: id ${SC_ID} is also used by ${SC.replace(/\./g, '\\.')}:\\d+ \\[rule/duplicate-id\\]$`,
      ),
    )
    // The unchanged file was not passed, so it is not reported.
    expect(run.stderr).not.toMatch(new RegExp(`^${SC.replace(/\./g, '\\.')}:`, 'm'))
  })

  it('without --all-from, the changed file alone cannot see the duplicate (why the flag exists)', () => {
    const repo = sampleRepo()
    const added = 'rules/windows/process_creation/proc_creation_win_sc_config_service.yml'
    writeFileSync(join(repo, added), duplicateOfSc())
    const { run } = runHook(repo, [], [added])
    expect(run.code).toBe(0)
    expect(run.stderr).not.toContain('duplicate-id')
  })
})

describe('CI output: SARIF 2.1.0 and GitHub annotations', () => {
  const Ajv = AjvModule as unknown as typeof AjvModule.default
  /**
   * The SARIF 2.1.0 schema (rtm.5, the OASIS 2.1.0 text) shipped by Microsoft's
   * @microsoft/jest-sarif. It is draft-04; its only draft-04-specific keyword is the top-level
   * `id`, which ajv 8 reads as `$id`. Formats (uri, date-time) are not checked, and patterns are
   * compiled without the `u` flag: the schema's language pattern `^[a-zA-Z]{2}|…]?$` has a stray
   * bracket that only non-Unicode regular expressions accept.
   */
  const sarifValidator = () => {
    const require = createRequire(import.meta.url)
    const file = join(
      dirname(require.resolve('@microsoft/jest-sarif/package.json')),
      'lib',
      'schemas',
      'sarif-2.1.0-rtm.5.json',
    )
    const { $schema, id, ...schema } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    expect($schema).toBe('http://json-schema.org/draft-04/schema#')
    return new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false }).compile({
      ...schema,
      $id: id as string,
    })
  }

  it('--format sarif is valid SARIF 2.1.0 with each finding at its file, line and column', () => {
    const repo = sampleRepo()
    const added = 'rules/windows/process_creation/proc_creation_win_sc_config_service.yml'
    writeFileSync(join(repo, added), duplicateOfSc('Service Stopped Via Net.EXE'))
    const run = rulesmith(repo, 'validate', '--format', 'sarif', 'rules/')
    expect(run.code).toBe(1)
    const log = JSON.parse(run.stdout) as {
      version: string
      runs: {
        tool: { driver: { rules: { id: string }[] } }
        results: {
          ruleId: string
          ruleIndex: number
          level: string
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } }
          }[]
        }[]
      }[]
    }
    const validate = sarifValidator()
    expect(validate(log), JSON.stringify(validate.errors, null, 2)).toBe(true)
    expect(log.version).toBe('2.1.0')
    const [sarifRun] = log.runs
    const dup = sarifRun!.results.find((r) => r.ruleId === 'rule/duplicate-id')!
    expect(dup.level).toBe('error')
    // Files are read in sorted order: the later of the two (sc_stop after sc_config) is the duplicate.
    expect(dup.locations[0]!.physicalLocation.artifactLocation.uri).toBe(SC)
    expect(dup.locations[0]!.physicalLocation.region.startLine).toBeGreaterThanOrEqual(1)
    expect(sarifRun!.tool.driver.rules[dup.ruleIndex]!.id).toBe('rule/duplicate-id')
    const title = sarifRun!.results.find((r) => r.ruleId === 'rule/duplicate-title')!
    expect(title.level).toBe('warning')
  })

  it('SARIF artifact URIs are relative to the working folder and percent-encoded, even for absolute paths', () => {
    const repo = sampleRepo()
    mkdirSync(join(repo, 'rules/new rules'))
    writeFileSync(join(repo, 'rules/new rules/sc #2.yml'), duplicateOfSc())
    const run = rulesmith(
      repo,
      'validate',
      '--format',
      'sarif',
      '--all-from',
      'rules/',
      join(repo, 'rules/new rules/sc #2.yml'),
    )
    expect(run.code).toBe(1)
    const log = JSON.parse(run.stdout) as {
      runs: {
        results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[]
      }[]
    }
    expect(sarifValidator()(log)).toBe(true)
    const dup = log.runs[0]!.results.find((r) => r.ruleId === 'rule/duplicate-id')!
    expect(dup.locations[0]!.physicalLocation.artifactLocation.uri).toBe('rules/new%20rules/sc%20%232.yml')
  })

  it('SARIF from a clean repository is valid too, with no results', () => {
    const run = rulesmith(sampleRepo(), 'validate', '--format', 'sarif', 'rules/')
    expect(run.code).toBe(0)
    const log = JSON.parse(run.stdout) as { runs: { results: unknown[] }[] }
    expect(sarifValidator()(log)).toBe(true)
    expect(log.runs[0]!.results).toEqual([])
  })

  it('--format github prints workflow commands with properties and data escaped', () => {
    const repo = sampleRepo()
    const added = 'rules/windows/process_creation/proc_creation_win_sc_config_service.yml'
    // A title with '%' and ':' — the duplicate-title warning quotes it in the message.
    writeFileSync(
      join(repo, added),
      duplicateOfSc("'Service Stopped Via Net.EXE'").replace(
        `id: ${SC_ID}`,
        'id: 1c0ffee0-0000-4000-8000-000000000001',
      ),
    )
    writeFileSync(
      join(repo, NET),
      read(join(repo, NET)).replace('title: Service Stopped Via Net.EXE', "title: 'Service Stopped Via Net.EXE'"),
    )
    const pct = 'rules/windows/process_creation/proc_creation_win_pct.yml'
    writeFileSync(
      join(repo, pct),
      duplicateOfSc("'Stops 100%: every service'").replace(`id: ${SC_ID}`, 'id: 1c0ffee0-0000-4000-8000-000000000002'),
    )
    writeFileSync(
      join(repo, 'rules/windows/process_creation/proc_creation_win_pct2.yml'),
      duplicateOfSc("'Stops 100%: every service'").replace(`id: ${SC_ID}`, 'id: 1c0ffee0-0000-4000-8000-000000000003'),
    )
    const run = rulesmith(repo, 'validate', '--format', 'github', 'rules/')
    expect(run.code).toBe(0) // duplicate titles are warnings
    const lines = run.stdout.trimEnd().split('\n')
    for (const l of lines) expect(l).toMatch(/^::(error|warning) file=[^,:]+,line=\d+,col=\d+,title=[^,:]+::.+$/)
    const warning = lines.find((l) => l.includes('proc_creation_win_pct2.yml') && l.includes('duplicate-title'))!
    // `:` and `,` are escaped in properties, `%` everywhere (actions/toolkit's escapeProperty/escapeData).
    expect(warning).toContain('title=rule/duplicate-title::')
    expect(warning).toContain("title 'Stops 100%25: every service' is also used by")
  })
})

describe('compile --out: one file per rule, target and format, and a manifest', () => {
  const nowhere = () =>
    duplicateOfSc('Nowhere')
      .replace(`id: ${SC_ID}`, 'id: 1c0ffee0-0000-4000-8000-000000000030')
      .replace('product: windows', 'product: rulesmith_no_such_product')

  it('writes stable names and the same bytes on every run; lists skipped rules in compile-manifest.json', () => {
    const repo = sampleRepo()
    writeFileSync(join(repo, 'rules/nowhere.yml'), nowhere())
    const first = rulesmith(repo, 'compile', '--target', 'all', '--skip-unsupported', '--out', 'build1', 'rules/')
    const second = rulesmith(repo, 'compile', '--target', 'all', '--skip-unsupported', '--out', 'build2', 'rules/')
    expect(first.code, first.stderr).toBe(0)
    expect(second.code).toBe(0)
    const files = listFiles(join(repo, 'build1'))
    expect(listFiles(join(repo, 'build2'))).toEqual(files)
    for (const f of files) expect(read(join(repo, 'build2', f))).toBe(read(join(repo, 'build1', f)))
    expect(files).toContain('kql/default/proc_creation_win_sc_stop_service.kql')
    const m = JSON.parse(read(join(repo, 'build1/compile-manifest.json'))) as {
      written: { path: string; sha256: string }[]
      skipped: { target: string; file: string; code: string }[]
    }
    expect(m.written.map((w) => w.path).sort()).toEqual(files.filter((f) => f !== 'compile-manifest.json'))
    for (const w of m.written) expect(sha256(readFileSync(join(repo, 'build1', w.path)))).toBe(w.sha256)
    expect(m.skipped.map((x) => [x.target, x.file])).toEqual([
      ['spl', 'rules/nowhere.yml'],
      ['kql', 'rules/nowhere.yml'],
      ['eql', 'rules/nowhere.yml'],
      ['osquery', 'rules/nowhere.yml'],
    ])
    expect(first.stderr).toMatch(/^ {2}osquery\trules\/nowhere\.yml\ttarget\//m)
  })

  it('without --skip-unsupported a refused rule is exit 1', () => {
    const repo = sampleRepo()
    writeFileSync(join(repo, 'rules/nowhere.yml'), nowhere())
    const run = rulesmith(repo, 'compile', '--target', 'kql', '--out', 'build', 'rules/')
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^rules\/nowhere\.yml:\d+:\d+: error: .*\[target\//m)
  })
})

describe('release bundles', () => {
  const bundle = (repo: string, out: string, ...args: string[]) =>
    rulesmith(repo, 'bundle', '--out', out, ...args, 'rules/')
  const manifestOf = (dir: string) =>
    JSON.parse(read(join(dir, 'manifest.json'))) as {
      rules: {
        id: string
        version: number
        file: string
        sourceSha256: string
        contentSha256: string
        artifacts: { target: string; format: string; path: string; sha256: string }[]
        skipped: { target: string; formats?: string[]; code: string }[]
      }[]
      changelog: {
        added: { id: string; version: number }[]
        changed: { id: string; version: number; previousVersion: number }[]
        removed: { id: string; version: number }[]
        unchanged: number
      }
      targets: string[]
    }

  it('holds every target and format, a manifest with sha256 per artifact, SHA256SUMS and the archive', () => {
    const repo = sampleRepo()
    const run = bundle(repo, 'dist/release')
    expect(run.code, run.stderr).toBe(0)
    const dir = join(repo, 'dist/release')
    const files = listFiles(dir)
    const m = manifestOf(dir)
    expect(m.targets).toEqual(['spl', 'kql', 'eql', 'osquery'])
    expect(m.rules.map((r) => r.file)).toEqual([NET, SC, TASKKILL])
    for (const r of m.rules) {
      const expected = m.targets.flatMap((t) =>
        (formatsOf(t).length ? formatsOf(t) : ['default']).map((f) => `${t}/${f}`),
      )
      expect(r.artifacts.map((a) => `${a.target}/${a.format}`)).toEqual(expected)
      for (const a of r.artifacts) expect(sha256(readFileSync(join(dir, a.path)))).toBe(a.sha256)
      expect(r.sourceSha256).toBe(sha256(readFileSync(join(repo, r.file))))
      expect(r.version).toBe(1)
    }
    // SHA256SUMS covers every other file, in `sha256sum -c` form.
    const sums = read(join(dir, 'SHA256SUMS'))
      .trimEnd()
      .split('\n')
      .map((l) => /^([0-9a-f]{64}) {2}(.+)$/.exec(l)!)
    expect(sums.map((m) => m[2])).toEqual(files.filter((f) => f !== 'SHA256SUMS'))
    for (const [, hash, path] of sums) expect(sha256(readFileSync(join(dir, path!)))).toBe(hash)
    // The archive holds the same files under detections/, as a valid ustar with fixed metadata.
    const entries = untar(gunzipSync(readFileSync(join(dir, 'detections.tar.gz'))))
    const archived = entries.filter((e) => e.type === '0')
    expect(archived.map((e) => e.name)).toEqual(
      files
        .filter((f) => f !== 'SHA256SUMS' && f !== 'detections.tar.gz')
        .map((f) => `detections/${f}`)
        .sort(byBytes),
    )
    for (const e of entries)
      expect({ mtime: e.mtime, uid: e.uid, gid: e.gid, checksumOk: e.checksumOk }).toEqual({
        mtime: 0,
        uid: 0,
        gid: 0,
        checksumOk: true,
      })
    for (const e of archived)
      expect(e.data.equals(readFileSync(join(dir, e.name.slice('detections/'.length))))).toBe(true)
  })

  it('is byte-identical when built twice, into another folder, from a copy elsewhere', () => {
    const a = sampleRepo(),
      b = sampleRepo()
    expect(bundle(a, 'out1').code).toBe(0)
    expect(bundle(a, 'out2').code).toBe(0)
    expect(bundle(b, 'elsewhere/release').code).toBe(0)
    const tgz = (dir: string) => sha256(readFileSync(join(dir, 'detections.tar.gz')))
    expect(tgz(join(a, 'out2'))).toBe(tgz(join(a, 'out1')))
    expect(tgz(join(b, 'elsewhere/release'))).toBe(tgz(join(a, 'out1')))
    expect(read(join(b, 'elsewhere/release/SHA256SUMS'))).toBe(read(join(a, 'out1/SHA256SUMS')))
    // gzip header: no timestamp, no OS byte of the build machine.
    const head = readFileSync(join(a, 'out1', 'detections.tar.gz')).subarray(0, 10)
    expect([...head]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff])
  })

  it('a changed rule bumps its version in the lock and the changelog; unchanged rules keep theirs', () => {
    const repo = sampleRepo()
    const first = bundle(repo, 'release-1', '--lock', 'rules.lock.json', '--update-lock')
    expect(first.code, first.stderr).toBe(0)
    const lock1 = JSON.parse(read(join(repo, 'rules.lock.json'))) as {
      rules: Record<string, { version: number; sha256: string }>
    }
    expect(Object.keys(lock1.rules)).toEqual([SC_ID, NET_ID, TASKKILL_ID].sort())
    expect(Object.values(lock1.rules).map((e) => e.version)).toEqual([1, 1, 1])
    expect(manifestOf(join(repo, 'release-1')).changelog.added.map((c) => c.id)).toEqual([NET_ID, SC_ID, TASKKILL_ID])

    // Edit the sc.exe rule's detection; reorder and re-indent the net.exe rule without changing it.
    writeFileSync(
      join(repo, SC),
      read(join(repo, SC)).replace("CommandLine|contains: ' stop '", "CommandLine|contains|all: [' stop ', ' \\\\']"),
    )
    const net = yaml.load(read(join(repo, NET)), { schema: yaml.CORE_SCHEMA }) as Record<string, unknown>
    const reordered = Object.fromEntries(Object.entries(net).reverse())
    writeFileSync(
      join(repo, NET),
      '# reformatted, same content\n' + yaml.dump(reordered, { indent: 4, schema: yaml.CORE_SCHEMA }),
    )
    const second = bundle(repo, 'release-2', '--lock', 'rules.lock.json', '--update-lock')
    expect(second.code, second.stderr).toBe(0)
    const m = manifestOf(join(repo, 'release-2'))
    expect(m.changelog.changed).toEqual([expect.objectContaining({ id: SC_ID, version: 2, previousVersion: 1 })])
    expect(m.changelog.added).toEqual([])
    expect(m.changelog.removed).toEqual([])
    expect(m.changelog.unchanged).toBe(2)
    expect(Object.fromEntries(m.rules.map((r) => [r.id, r.version]))).toEqual({
      [SC_ID]: 2,
      [NET_ID]: 1,
      [TASKKILL_ID]: 1,
    })
    expect(read(join(repo, 'release-2/CHANGELOG.md'))).toMatch(
      new RegExp(`## Changed \\(1\\)\\n\\n- Service Stopped Via Sc\\.EXE \\(\`${SC_ID}\`, v1 → v2\\)`),
    )
    expect(JSON.parse(read(join(repo, 'rules.lock.json'))).rules[SC_ID].version).toBe(2)

    // The same input with the same lock again: nothing changes, nothing bumps.
    const third = bundle(repo, 'release-3', '--lock', 'rules.lock.json')
    expect(third.code).toBe(0)
    expect(manifestOf(join(repo, 'release-3')).changelog).toMatchObject({
      added: [],
      changed: [],
      removed: [],
      unchanged: 3,
    })

    // A removed rule is listed once and keeps its last version in the lock.
    rmSync(join(repo, TASKKILL))
    const fourth = bundle(repo, 'release-4', '--lock', 'rules.lock.json', '--update-lock')
    expect(fourth.code).toBe(0)
    expect(manifestOf(join(repo, 'release-4')).changelog.removed).toEqual([
      expect.objectContaining({ id: TASKKILL_ID, version: 1 }),
    ])
    expect(JSON.parse(read(join(repo, 'rules.lock.json'))).rules[TASKKILL_ID]).toMatchObject({
      version: 1,
      removed: true,
    })
  })

  it('a failing rule leaves no bundle, lists every failing rule, and keeps a previous bundle intact', () => {
    const repo = sampleRepo()
    writeFileSync(
      join(repo, 'rules/windows/process_creation/broken_condition.yml'),
      duplicateOfSc('Broken Condition')
        .replace(`id: ${SC_ID}`, 'id: 1c0ffee0-0000-4000-8000-000000000010')
        .replace('condition: selection', 'condition: selection and ('),
    )
    writeFileSync(join(repo, 'rules/windows/process_creation/broken_yaml.yml'), 'title: [unclosed\n')
    const run = bundle(repo, 'dist/release')
    expect(run.code).toBe(1)
    expect(existsSync(join(repo, 'dist'))).toBe(false) // not even the parent folder
    expect(readdirSync(repo).filter((f) => f.includes('.tmp-'))).toEqual([])
    expect(run.stderr).toContain('nothing written to dist/release; 2 failing rule files:')
    expect(run.stderr).toMatch(/^ {2}rules\/windows\/process_creation\/broken_condition\.yml \(\d+ errors?\)$/m)
    expect(run.stderr).toMatch(/^ {2}rules\/windows\/process_creation\/broken_yaml\.yml \(\d+ errors?\)$/m)

    // A good bundle first, then a failing rebuild into the same folder: the good one stays.
    const clean = sampleRepo()
    expect(bundle(clean, 'release').code).toBe(0)
    const before = sha256(readFileSync(join(clean, 'release/SHA256SUMS')))
    writeFileSync(join(clean, 'rules/windows/process_creation/broken_yaml.yml'), 'title: [unclosed\n')
    expect(bundle(clean, 'release').code).toBe(1)
    expect(sha256(readFileSync(join(clean, 'release/SHA256SUMS')))).toBe(before)
    expect(readdirSync(clean).filter((f) => f.startsWith('.release.'))).toEqual([])
  })

  it('a target that cannot express a rule fails the bundle, or is skipped and listed with --skip-unsupported', () => {
    const repo = sampleRepo()
    // A log source no target knows: every backend must refuse it.
    writeFileSync(
      join(repo, 'rules/windows/process_creation/nowhere.yml'),
      duplicateOfSc('Nowhere')
        .replace(`id: ${SC_ID}`, 'id: 1c0ffee0-0000-4000-8000-000000000020')
        .replace('product: windows', 'product: rulesmith_no_such_product'),
    )
    const refused = bundle(repo, 'release')
    expect(refused.code).toBe(1)
    expect(existsSync(join(repo, 'release'))).toBe(false)
    // kql refuses twice: on Defender's tables, and on Sentinel's for the Sentinel formats.
    expect(refused.stderr).toMatch(/^ {2}rules\/windows\/process_creation\/nowhere\.yml \(5 errors\)$/m)
    const skipped = bundle(repo, 'release', '--skip-unsupported')
    expect(skipped.code, skipped.stderr).toBe(0)
    const rule = manifestOf(join(repo, 'release')).rules.find((r) => r.id === '1c0ffee0-0000-4000-8000-000000000020')!
    expect(rule.artifacts).toEqual([])
    expect(rule.skipped.map((s) => [s.target, s.formats])).toEqual([
      ['spl', undefined],
      ['kql', ['arm', 'sentinel']],
      ['kql', ['default', 'defender']],
      ['eql', undefined],
      ['osquery', undefined],
    ])
    for (const s of rule.skipped) expect(s.code).toMatch(/^target\//)
    expect(skipped.stderr).toMatch(/nowhere\.yml \(osquery\): target\//)
  })

  it('refuses to replace a folder that is not a bundle, and touches nothing in it', () => {
    const repo = sampleRepo()
    mkdirSync(join(repo, 'docs'))
    writeFileSync(join(repo, 'docs/notes.md'), 'mine\n')
    const run = bundle(repo, 'docs')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('holds no rulesmith bundle')
    expect(listFiles(join(repo, 'docs'))).toEqual(['notes.md'])
  })

  it('refuses an output folder inside the rule folders, and an empty release', () => {
    const repo = sampleRepo()
    const inside = bundle(repo, 'rules/release')
    expect(inside.code).toBe(2)
    expect(inside.stderr).toContain("is inside the rule path 'rules/'")
    mkdirSync(join(repo, 'empty'))
    const empty = rulesmith(repo, 'bundle', '--out', 'release', 'empty')
    expect(empty.code).toBe(1)
    expect(empty.stderr).toContain('[bundle/no-rules]')
    expect(existsSync(join(repo, 'release'))).toBe(false)
    expect(existsSync(join(repo, 'rules/release'))).toBe(false)
  })

  it('prints no progress bar when stderr is not a terminal', () => {
    const run = bundle(sampleRepo(), 'release')
    expect(run.code).toBe(0)
    expect(run.stderr).not.toContain('\r')
    expect(run.stderr).not.toContain('\u001b[')
  })
})

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** A small ustar reader for the test (independent of the writer under test). */
function untar(buf: Buffer) {
  const out: {
    name: string
    type: string
    mtime: number
    uid: number
    gid: number
    checksumOk: boolean
    data: Buffer
  }[] = []
  const str = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '')
  const num = (b: Buffer) => parseInt(str(b).trim() || '0', 8)
  for (let off = 0; off + 512 <= buf.length;) {
    const h = buf.subarray(off, off + 512)
    if (h.every((x) => x === 0)) break
    expect(h.subarray(257, 263).toString('latin1')).toBe('ustar\0')
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
    const prefix = str(h.subarray(345, 500))
    const name = (prefix ? prefix + '/' : '') + str(h.subarray(0, 100))
    const size = num(h.subarray(124, 136))
    out.push({
      name,
      type: h.subarray(156, 157).toString('latin1'),
      mtime: num(h.subarray(136, 148)),
      uid: num(h.subarray(108, 116)),
      gid: num(h.subarray(116, 124)),
      checksumOk: num(h.subarray(148, 156)) === sum,
      data: buf.subarray(off + 512, off + 512 + size),
    })
    off += 512 + Math.ceil(size / 512) * 512
  }
  return out
}
