/**
 * The service-stop (T1489) rule pack in rules/: valid, every rule's sample events pass in the
 * reference evaluator and in every target (or the target's refusal is listed with its reason),
 * and every Atomic Red Team T1489 procedure has a sample event that some rule must select.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { cli, ROOT } from '../support/cli.js'

const RULES = join(ROOT, 'rules')

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name)
      return statSync(p).isDirectory() ? walk(p) : [p]
    })
}

const load = (f: string) => yaml.load(readFileSync(f, 'utf8')) as Record<string, unknown>
const yamlFiles = walk(RULES).filter((f) => f.endsWith('.yml') && !f.endsWith('.tests.yml'))
// Global filters tune the rules they name; those rules' tests files hold the events they drop.
const filterFiles = yamlFiles.filter((f) => 'filter' in load(f) && !('detection' in load(f)))
const ruleFiles = yamlFiles.filter((f) => !filterFiles.includes(f))

interface Sample {
  name: string
  source?: string
  event: Record<string, unknown>
}
interface TestsFile {
  rule: string
  match?: Sample[]
  nomatch?: Sample[]
  streams?: { name: string; events: unknown[]; expect: unknown[] }[]
  refused?: Record<string, string>
}
const testsOf = (f: string) => load(f.replace(/\.yml$/, '.tests.yml')) as unknown as TestsFile

interface TargetStatus {
  kind: 'ok' | 'refused' | 'fail'
  events?: number
  expected?: boolean
  reason?: string
}
interface RuleResult {
  rule: string
  file: string
  events: number
  referenceFailures: number
  targets: Record<string, TargetStatus>
}

describe('T1489 rule pack', () => {
  it('has rules for Windows, Linux, macOS and ESXi, each with a tests file for its id', () => {
    const oses = new Set(ruleFiles.map((f) => relative(RULES, f).split('/')[0]))
    expect([...oses].sort()).toEqual(['esxi', 'linux', 'macos', 'windows'])
    for (const f of ruleFiles) {
      const rule = load(f)
      const tests = testsOf(f)
      expect(tests.rule, f).toBe(rule['id'])
      if ('correlation' in rule) {
        // A correlation is tested on event streams: some that fire, near-misses that do not.
        expect((tests.streams ?? []).filter((s) => s.expect.length > 0).length, `${f}: firing streams`).toBeGreaterThan(
          0,
        )
        expect((tests.streams ?? []).filter((s) => s.expect.length === 0).length, `${f}: near-misses`).toBeGreaterThan(
          0,
        )
        continue
      }
      expect((tests.match ?? []).length, `${f}: match events`).toBeGreaterThan(0)
      expect((tests.nomatch ?? []).length, `${f}: nomatch events`).toBeGreaterThan(0)
    }
  })

  it('gives every rule the metadata the pack promises', () => {
    const ids = new Set<string>()
    for (const f of ruleFiles) {
      const rule = load(f)
      const id = String(rule['id'])
      expect(id, f).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(ids.has(id), `${f}: duplicate id`).toBe(false)
      ids.add(id)
      expect(rule['tags'], f).toEqual(expect.arrayContaining(['attack.impact', 'attack.t1489']))
      expect(rule['references'], f).toEqual(expect.arrayContaining(['https://attack.mitre.org/techniques/T1489/']))
      expect(rule['author'], f).toBe('rulesmith project')
      expect(['informational', 'low', 'medium', 'high', 'critical'], f).toContain(rule['level'])
      expect((rule['falsepositives'] as unknown[]).length, f).toBeGreaterThan(0)
      if ('correlation' in rule) expect(relative(RULES, f).split('/')[1], f).toBe('correlation')
      else expect((rule['logsource'] as Record<string, unknown>)['product'], f).toBe(relative(RULES, f).split('/')[0])
    }
  })

  it('has global filters that name rules of the pack, each of which has an event the filter drops', () => {
    expect(filterFiles.length).toBeGreaterThan(0)
    const byId = new Map(ruleFiles.map((f) => [String(load(f)['id']), f]))
    for (const f of filterFiles) {
      const names = (load(f)['filter'] as { rules: string[] }).rules
      expect(names.length, f).toBeGreaterThan(0)
      for (const id of names) {
        const rule = byId.get(id)
        expect(rule, `${f}: ${id}`).toBeDefined()
        const nomatch = testsOf(rule!).nomatch ?? []
        expect(
          nomatch.some((s) =>
            s.name.includes(
              relative(RULES, f)
                .split('/')
                .pop()!
                .replace(/\.yml$/, ''),
            ),
          ),
          `${rule}: an event the filter drops`,
        ).toBe(true)
      }
    }
  })

  it('has a sample event that must match for each Atomic Red Team T1489 procedure', () => {
    const sources = new Set(ruleFiles.flatMap((f) => (testsOf(f).match ?? []).map((s) => s.source)))
    for (let n = 1; n <= 8; n++) expect(sources.has(`atomics/T1489/T1489.yaml#${n}`), `ART T1489 test ${n}`).toBe(true)
  })

  it('validates without errors', () => {
    const r = cli(['validate', 'rules'])
    expect(r.stderr).not.toMatch(/: error: /)
    expect(r.code).toBe(0)
  })

  it('passes its sample events in the evaluator and every target, refusing only where listed', () => {
    const r = cli(['test', '--json', 'rules'])
    expect(r.stderr).not.toMatch(/: error: /)
    expect(r.code).toBe(0)
    const results = JSON.parse(r.stdout) as RuleResult[]
    expect(results.length).toBe(ruleFiles.length)
    for (const res of results) {
      expect(res.events, res.file).toBeGreaterThan(0)
      expect(res.referenceFailures, res.file).toBe(0)
      const listed = testsOf(join(ROOT, res.file)).refused ?? {}
      for (const [target, status] of Object.entries(res.targets)) {
        if (status.kind === 'refused')
          expect(listed[target], `${res.file}: ${target} refused (${status.reason ?? ''})`).toBeDefined()
        else expect(status, `${res.file}: ${target}`).toEqual({ kind: 'ok', events: res.events })
      }
    }
  })
})
