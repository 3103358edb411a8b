/**
 * osquery and Fleet artifacts of a bundle merged per platform (issue 20): one pack per platform
 * holding every rule's query, one Fleet query list per platform, and a team file that references
 * the lists by a path that resolves; each merged file holds exactly what the per-rule formats hold.
 */
import yaml from 'js-yaml'
import { posix } from 'node:path'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildBundle } from '../../src/bundle/build.js'
import { DEFAULT_CONFIG } from '../../src/config.js'
import { ROOT } from '../support/cli.js'

describe('osquery packs and Fleet files per platform', async () => {
  const config = { ...DEFAULT_CONFIG, targets: ['osquery' as const] }
  const r = await buildBundle(
    ['rules/linux', 'rules/macos'].map((p) => join(ROOT, p)),
    { config, root: ROOT },
  )
  const files = new Map((r.bundle?.files ?? []).map((f) => [f.path, Buffer.from(f.data).toString('utf8')]))
  // The per-rule files: osquery/<format>/<stem>.<ext>, not the merged ones in subfolders.
  const perRule = (dir: string) =>
    [...files].filter(([p]) => p.startsWith(`osquery/${dir}/`) && p.split('/').length === 3).map(([, t]) => t)

  it('one pack per platform with every query of the per-rule packs', () => {
    expect(r.bundle, JSON.stringify(r.diagnostics)).toBeDefined()
    const merged = new Map<string, Record<string, unknown>>()
    for (const platform of ['darwin', 'linux']) {
      const pack = JSON.parse(files.get(`osquery/packs/${platform}.json`)!) as {
        platform: string
        queries: Record<string, unknown>
      }
      expect(pack.platform).toBe(platform)
      for (const [k, v] of Object.entries(pack.queries)) merged.set(k, v as Record<string, unknown>)
    }
    const single = perRule('pack').map((t) => JSON.parse(t) as { queries: Record<string, unknown> })
    expect(merged.size).toBe(single.length)
    for (const p of single) for (const [k, v] of Object.entries(p.queries)) expect(merged.get(k)).toEqual(v)
  })

  it('fleet: a query list per platform and a team file whose paths resolve to them', () => {
    const team = yaml.load(files.get('osquery/fleet/teams/detections.yml')!) as {
      name: string
      queries: { path: string }[]
    }
    expect(team.name).toBe('detections')
    const items = team.queries.flatMap((q) => {
      const path = posix.join('osquery/fleet/teams', q.path)
      expect(files.has(path), path).toBe(true)
      return yaml.load(files.get(path)!) as object[]
    })
    const single = perRule('fleet').flatMap((t) => yaml.load(t) as object[])
    expect(items).toHaveLength(single.length)
    expect(items).toEqual(expect.arrayContaining(single))
    expect(r.bundle!.manifest.packages.map((p) => p.path)).toEqual([
      'osquery/packs/darwin.json',
      'osquery/fleet/lib/darwin.queries.yml',
      'osquery/packs/linux.json',
      'osquery/fleet/lib/linux.queries.yml',
      'osquery/fleet/teams/detections.yml',
    ])
  })
})
