/**
 * Configuration injection through savedsearches.conf (issue 12): metadata and file names holding
 * line breaks, other line separators or a trailing backslash never add a stanza or a setting; the
 * exact text survives in the JSON metadata; validate warns about text it had to fold.
 */
import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { readdirSync, readFileSync } from 'node:fs'
import { cli } from '../support/cli.js'
import { parseConf } from '../support/conf.js'
import { diagnosticLines, ruleText, scratch, write } from './helpers.js'

const SETTINGS = [
  'description',
  'search',
  'disabled',
  'enableSched',
  'cron_schedule',
  'dispatch.earliest_time',
  'dispatch.latest_time',
  'counttype',
  'relation',
  'quantity',
  'alert.track',
  'alert.severity',
  'action.correlationsearch.enabled',
  'action.correlationsearch.label',
  'action.correlationsearch.annotations',
  'action.correlationsearch.metadata',
  'action.notable',
  'action.notable.param.rule_title',
  'action.notable.param.rule_description',
  'action.notable.param.severity',
]
const INJECTION = '\n[Injected]\nsearch = | delete\naction.script = evil.sh'

describe('savedsearches.conf injection', () => {
  const dir = scratch()

  it('a license with a newline writes no stanza of its own; validate warns (exit 0)', () => {
    const file = write(join(dir, 'license', 'rule.yml'), ruleText({ license: JSON.stringify('MIT' + INJECTION) }))
    const r = cli(['compile', '--target', 'spl', '--format', 'savedsearches', file])
    expect(r.code).toBe(0)
    const conf = parseConf(r.stdout)
    expect(conf.errors).toEqual([])
    expect(conf.stanzas.map((s) => s.name)).toEqual(['Sigma - Service stopped by sc.exe'])
    expect([...conf.stanzas[0]!.settings.keys()]).toEqual(SETTINGS)
    expect(JSON.parse(conf.stanzas[0]!.settings.get('action.correlationsearch.metadata')!).sigma_license).toBe(
      'MIT' + INJECTION,
    )
    expect(conf.comments[1]).toBe(
      `Sigma rule 5f0c3f9e-1111-4222-8333-944455556666 (${file}), license MIT [Injected] search = | delete action.script = evil.sh`,
    )
    const v = cli(['validate', '--no-compile', file])
    expect(v.code).toBe(0)
    expect(diagnosticLines(v.stderr)).toEqual([
      `${file}:5:10: warning: license holds U+000A, a line break or control character: one-line outputs (savedsearches.conf, comments) fold it to a space and JSON/YAML escape it; remove it [rule/unsafe-text]`,
    ])
  })

  it('a file name with newlines writes no stanza through the header comment, nor a line in the manifest', () => {
    const file = write(join(dir, 'name', `evil${INJECTION}.yml`), ruleText())
    const r = cli(['compile', '--target', 'spl', '--format', 'savedsearches', file])
    expect(r.code).toBe(0)
    const conf = parseConf(r.stdout)
    expect(conf.errors).toEqual([])
    expect(conf.stanzas.map((s) => s.name)).toEqual(['Sigma - Service stopped by sc.exe'])
    expect(JSON.parse(conf.stanzas[0]!.settings.get('action.correlationsearch.metadata')!).sigma_file).toBe(file)
    const out = join(dir, 'name-out')
    expect(cli(['compile', '--target', 'spl', '--format', 'savedsearches', '--out', out, file]).code).toBe(0)
    // The output file's name holds no line break or separator; the manifest names the rule file exactly.
    expect(readdirSync(join(out, 'spl', 'savedsearches'))).toEqual([
      'evil_[Injected]_search = _ delete_action.script = evil.sh.conf',
    ])
    const manifest = JSON.parse(readFileSync(join(out, 'compile-manifest.json'), 'utf8'))
    expect(manifest.written).toHaveLength(1)
  })

  it('CR, VT, FF, NEL, U+2028, U+2029 and a trailing backslash fold in comments and stanza names', () => {
    const chars = ['\r', '\v', '\f', '\x85', '\u2028', '\u2029', '\\']
    chars.forEach((c, i) =>
      write(
        join(dir, 'chars', `r${i}.yml`),
        ruleText({
          title: JSON.stringify(`Title ${i}${c}[x]${c}`),
          id: `5f0c3f9e-1111-4222-8333-94445555000${i}`,
          author: JSON.stringify(`Author${c}`),
          license: JSON.stringify(`License${c}`),
          description: JSON.stringify(`Description${c}`),
        }),
      ),
    )
    const r = cli(['compile', '--target', 'spl', '--format', 'savedsearches', join(dir, 'chars')])
    expect(r.code).toBe(0)
    expect(r.stdout).not.toMatch(/[\r\v\f\x85\u2028\u2029]/)
    expect(r.stdout.split('\n').filter((l) => l.endsWith('\\'))).toEqual([])
    const conf = parseConf(r.stdout)
    expect(conf.errors).toEqual([])
    expect(conf.stanzas.map((s) => s.name)).toEqual(
      chars.map((c, i) => `Sigma - Title ${i}${c === '\\' ? '\\' : ' '}x`),
    )
    for (const s of conf.stanzas) expect([...s.settings.keys()]).toEqual(SETTINGS)
  })
})
