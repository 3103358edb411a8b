/**
 * The Splunk apps of a bundle (issue 20): one .tgz per variant with app.conf, savedsearches.conf,
 * macros.conf and default.meta under the app folder; byte-identical when rebuilt; the ES variant
 * with correlation searches and notables, the core variant with none of ES's alert actions; and a
 * search that names a log-source macro is, once Splunk expands the macro, the query the rule
 * compiled to.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { buildBundle } from '../../src/bundle/build.js'
import { DEFAULT_CONFIG } from '../../src/config.js'
import { checkAppConf, checkMacros, checkSavedSearches, parseConf } from '../../src/formats/consumers/splunk.js'
import { ROOT } from '../support/cli.js'

const RULES = ['rules/esxi/shell', 'rules/linux/auditd'].map((p) => join(ROOT, p))

/** The files of a ustar archive (name, prefix and size fields: POSIX pax "ustar Interchange Format"). */
function untar(tgz: Buffer): Map<string, string> {
  const t = gunzipSync(tgz)
  const out = new Map<string, string>()
  for (let at = 0; at + 512 <= t.length;) {
    const field = (o: number, n: number) =>
      t
        .subarray(at + o, at + o + n)
        .toString('utf8')
        .replace(/\0.*$/s, '')
    const name = field(0, 100)
    if (name === '') break
    const path = [field(345, 155), name].filter(Boolean).join('/')
    const size = parseInt(field(124, 12), 8)
    if (field(156, 1) === '0') out.set(path, t.subarray(at + 512, at + 512 + size).toString('utf8'))
    at += 512 + Math.ceil(size / 512) * 512
  }
  return out
}

describe('splunk app', async () => {
  const config = { ...DEFAULT_CONFIG, targets: ['spl' as const] }
  const first = await buildBundle(RULES, { config, root: ROOT })
  const again = await buildBundle(RULES, { config, root: ROOT })
  const file = (path: string) => first.bundle!.files.find((f) => f.path === path)!.data as Buffer

  it('one .tgz per variant, listed in the manifest, byte-identical when rebuilt', () => {
    expect(first.bundle, JSON.stringify(first.diagnostics)).toBeDefined()
    const packages = first.bundle!.manifest.packages
    expect(packages.map((p) => [p.format, p.path])).toEqual([
      ['splunk-app-es', 'spl/splunk-app/detections_es.tgz'],
      ['splunk-app-core', 'spl/splunk-app/detections_core.tgz'],
    ])
    for (const p of packages) {
      const other = again.bundle!.files.find((f) => f.path === p.path)!.data
      expect(Buffer.compare(file(p.path), Buffer.from(other))).toBe(0)
    }
  })

  it('tar reads it: one app folder with the four files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-app-'))
    const tgz = join(dir, 'app.tgz')
    writeFileSync(tgz, file('spl/splunk-app/detections_core.tgz'))
    const listed = spawnSync('tar', ['tzf', tgz], { encoding: 'utf8' })
    expect(listed.status, listed.stderr).toBe(0)
    expect(listed.stdout.split('\n').filter((l) => !l.endsWith('/') && l)).toEqual([
      'detections_core/default/app.conf',
      'detections_core/default/macros.conf',
      'detections_core/default/savedsearches.conf',
      'detections_core/metadata/default.meta',
    ])
  })

  for (const variant of ['es', 'core'] as const)
    it(`${variant}: every file passes its .conf rules; searches with their macros expanded are the compiled queries`, () => {
      const id = `detections_${variant}`
      const app = untar(file(`spl/splunk-app/${id}.tgz`))
      expect(checkAppConf(app.get(`${id}/default/app.conf`)!, id)).toEqual([])
      expect(checkMacros(app.get(`${id}/default/macros.conf`)!)).toEqual([])
      const conf = app.get(`${id}/default/savedsearches.conf`)!
      expect(checkSavedSearches(conf, variant)).toEqual([])
      if (variant === 'core') expect(conf).not.toMatch(/^action\./m)
      else expect(conf).toMatch(/^action\.notable = 1$/m)
      const macros = new Map(
        parseConf(app.get(`${id}/default/macros.conf`)!).stanzas.map((s) => [s.name, s.settings.get('definition')!]),
      )
      const searches = parseConf(conf).stanzas.filter((s) => s.settings.has('search'))
      expect(searches).toHaveLength(first.rules)
      const queries = first
        .bundle!.files.filter((f) => f.path.startsWith('spl/default/'))
        .map((f) => Buffer.from(f.data).toString('utf8').trimEnd())
      const expanded = searches.map((s) =>
        s.settings.get('search')!.replace(/`([^`]+)`/g, (_, m: string) => macros.get(m)!),
      )
      expect(searches.some((s) => s.settings.get('search')!.startsWith('`rulesmith_'))).toBe(true)
      // Every macro a search or a definition calls (the log-source scopes: `sysmon` …) is defined here.
      const called = [...searches.map((s) => s.settings.get('search')!), ...macros.values()].flatMap((t) =>
        [...t.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!),
      )
      expect(called.filter((m) => m.startsWith('rulesmith_')).length).toBeGreaterThan(0)
      expect(called.filter((m) => !m.startsWith('rulesmith_')).length).toBeGreaterThan(0)
      expect(called.filter((m) => !macros.has(m))).toEqual([])
      expect(expanded.sort()).toEqual(queries.sort())
    })
})
