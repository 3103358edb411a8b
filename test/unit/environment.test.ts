/**
 * The shared target environment (src/backends/environment.ts): every shipped file fits its
 * target's JSON schema, a pipeline is checked by the same schema on every target, pipelines merge
 * the same way everywhere, and "the most specific log source" is one search.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import { generateEnvironmentValidators } from '../../src/backends/environment-codegen.js'
import { mergePipeline, readEnvironmentFile, readShipped, resolveLogSource } from '../../src/backends/environment.js'
import { TARGET_IDS } from '../../src/backends/types.js'
import { loadRuleText } from '../../src/rule/load.js'

const ROOT = resolve(__dirname, '../..')

describe('target environments', () => {
  it('the generated validators are those of targets/*/target.schema.json (npm run generate:validators)', () => {
    const file = join(ROOT, 'src', 'backends', 'environment-validators.generated.ts')
    expect(readFileSync(file, 'utf8')).toBe(generateEnvironmentValidators())
  })

  it('every shipped environment file fits its schema', () => {
    for (const t of TARGET_IDS) expect(readShipped(t).problem, t).toBeUndefined()
    expect(readShipped('eql', 'schema/ecs.yml', 'ecs').problem).toBeUndefined()
    for (const v of ['defender', 'sentinel'])
      expect(readShipped('kql', `schema/${v}.yml`, 'tables').problem, v).toBeUndefined()
    for (const f of readdirSync(join(ROOT, 'targets', 'osquery', 'schema')))
      expect(readShipped('osquery', `schema/${f}`, 'table').problem, f).toBeUndefined()
  })

  it('a pipeline with a misspelt key is a config/pipeline error naming the key, on every target', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-env-'))
    const file = join(dir, 'typo.yml')
    writeFileSync(file, 'feilds:\n  Image: x\n')
    const rule = loadRuleText(
      'title: t\nlogsource: { product: windows, category: process_creation }\ndetection:\n  sel:\n    Image: x\n  condition: sel\n',
      'r.yml',
    ).rules[0]!
    for (const t of TARGET_IDS) {
      const c = (await loadBackend(t)).compile(rule, { pipeline: file })
      expect(c.query, t).toBeUndefined()
      expect(
        c.diagnostics.map((d) => [d.code, d.file]),
        t,
      ).toEqual([['config/pipeline', file]])
      expect(c.diagnostics[0]!.message, t).toContain("'feilds'")
    }
  })

  it('a log source no target has is refused with one message shape on every target', async () => {
    const rule = loadRuleText(
      'title: t\nlogsource: { product: plan9, category: rio }\ndetection:\n  sel:\n    a: x\n  condition: sel\n',
      'r.yml',
    ).rules[0]!
    for (const t of TARGET_IDS) {
      const d = (await loadBackend(t)).compile(rule).diagnostics
      expect(
        d.map((x) => x.code),
        t,
      ).toEqual(['target/unsupported-logsource'])
      expect(d[0]!.message, t).toMatch(
        new RegExp(
          `^${t}( \\(\\w+\\))? has no [\\w ]+ for log source product=plan9 category=rio; supported \\(product/category/service\\): .*windows/process_creation.*; add one with --pipeline FILE$`,
        ),
      )
    }
  })

  it('reads an empty pipeline as an empty map and a broken one as a problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-env-'))
    writeFileSync(join(dir, 'empty.yml'), '')
    writeFileSync(join(dir, 'list.yml'), 'logsources: [1, 2]\n')
    expect(readEnvironmentFile('spl', join(dir, 'empty.yml'), 'target')).toEqual({ doc: {} })
    expect(readEnvironmentFile('spl', join(dir, 'list.yml'), 'target').problem).toMatch(/logsources must be object/)
    expect(readEnvironmentFile('spl', join(dir, 'absent.yml'), 'target').problem).toMatch(/cannot read it/)
  })

  it('merges a pipeline: maps key by key, a replaced log source keeps its place, a new one comes last', () => {
    const base = {
      fields: { a: 'A', b: 'B' },
      logsources: { one: { match: { product: 'x' } }, two: { match: { product: 'y' } } },
      savedsearch: { cron_schedule: 'c' },
    }
    const merged = mergePipeline<Record<string, unknown>>(base, {
      fields: { b: 'B2', c: 'C' },
      logsources: { three: { match: { product: 'z' } }, one: { match: { product: 'x2' } } },
      savedsearch: null,
    })
    expect(merged).toEqual({
      fields: { a: 'A', b: 'B2', c: 'C' },
      logsources: {
        one: { match: { product: 'x2' } },
        two: { match: { product: 'y' } },
        three: { match: { product: 'z' } },
      },
      savedsearch: { cron_schedule: 'c' },
    })
    expect(Object.keys(merged.logsources as object)).toEqual(['one', 'two', 'three'])
  })

  it('resolves the most specific log source: most keys, then the first, case-insensitively', () => {
    const sources: { name: string; match: Record<string, string> }[] = [
      { name: 'win', match: { product: 'windows' } },
      { name: 'proc', match: { product: 'windows', category: 'process_creation' } },
      { name: 'proc2', match: { product: 'Windows', category: 'Process_Creation' } },
    ]
    expect(resolveLogSource(sources, { product: 'WINDOWS', category: 'process_creation' })?.name).toBe('proc')
    expect(resolveLogSource(sources, { product: 'windows', category: 'file_event' })?.name).toBe('win')
    expect(resolveLogSource(sources, { product: 'linux' })).toBeUndefined()
    expect(resolveLogSource(sources, { category: 'process_creation' })).toBeUndefined()
  })
})
