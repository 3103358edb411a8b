/**
 * ATT&CK tactics in each consumer's spelling (issue 20): Sentinel's `tactics` and Defender's
 * categories take only the AttackTactic enum (Azure-Sentinel's template validation,
 * .script/tests/detectionTemplateSchemaValidation/Models/AttackTactic.cs, the list the consumer
 * checker holds: SENTINEL_TACTICS; the REST API's enum in azure-rest-api-specs also has PreAttack,
 * which the validation rejects, so the narrower list is the one both accept);
 * Elastic's threat objects need a real tactic id and reference. ATT&CK v18's Stealth and Defense
 * Impairment are known to none of them: written as Defense Evasion, with a warning.
 */
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import { compileFiles } from '../../src/compile-files.js'
import { resolveAttack, sentinelSpelling, TACTICS } from '../../src/formats/attack.js'
import { SENTINEL_TACTICS } from '../../src/formats/consumers/sentinel.js'
import { formatFindings, SENTINEL_QUERY_LIMIT } from '../../src/formats/findings.js'
import { renderFormat, ruleVars } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'
import { ruleText, scratch, write } from '../hostile/helpers.js'
import { join } from 'node:path'

const TAGS = `tags: [attack.stealth, attack.command-and-control, attack.defense-evasion, attack.defense-impairment, attack.t1036.005]`
const rule = loadRuleText(ruleText() + TAGS + '\n', 'rules/stealth.yml').rules[0]!

describe('ATT&CK tactics per consumer', () => {
  it('every tactic Sigma knows is one Sentinel and Defender accept', () => {
    for (const t of Object.keys(TACTICS)) {
      const [known] = resolveAttack({ tactics: [t], tacticNames: [], techniques: [] }).tactics
      expect(SENTINEL_TACTICS).toContain(sentinelSpelling(known!))
    }
    expect(sentinelSpelling('command-and-control')).toBe('CommandAndControl')
  })

  it('every tactic Sigma knows resolves to one of the release with a real id', () => {
    for (const t of Object.keys(TACTICS)) {
      const [known] = resolveAttack({ tactics: [t], tacticNames: [], techniques: [] }).tactics
      expect(TACTICS[known!]!.id).toMatch(/^TA\d{4}$/)
    }
    expect(resolveAttack({ tactics: ['defense-impairment'], tacticNames: [], techniques: [] }).tactics).toEqual([
      'defense-evasion',
    ])
  })

  it('sentinel and defender: the enum spelling, Stealth and Defense Impairment as Defense Evasion once', async () => {
    const kql = await loadBackend('kql')
    const c = kql.compile(rule, { variant: 'sentinel' })
    const vars = { rule: ruleVars(rule), query: c.query!, target: 'kql', context: c.context ?? {} }
    const sentinel = yaml.load(await renderFormat('kql', { name: 'sentinel' }, vars)) as { tactics: string[] }
    expect(sentinel.tactics).toEqual(['DefenseEvasion', 'CommandAndControl'])
    const d = kql.compile(rule, { variant: 'defender' })
    const defender = JSON.parse(
      await renderFormat('kql', { name: 'defender' }, { ...vars, query: d.query!, context: d.context ?? {} }),
    )
    expect(defender.isEnabled).toBe(false)
    expect(defender.detectionAction.alertTemplate.category).toBe('DefenseEvasion')
  })

  it('elastic: no empty tactic id, no dead reference, one Defense Evasion', async () => {
    const eql = await loadBackend('eql')
    const c = eql.compile(rule)
    const text = await renderFormat(
      'eql',
      { name: 'elastic' },
      { rule: ruleVars(rule), query: c.query!, target: 'eql', context: c.context ?? {} },
    )
    const doc = JSON.parse(text)
    expect(doc.threat.map((t: { tactic: { id: string } }) => t.tactic.id)).toEqual(['TA0005', 'TA0011'])
    expect(text).not.toContain('tactics//')
    expect(doc).not.toHaveProperty('license')
  })

  it('the mapping is a warning naming the tactic, per format; a long query is a warning for sentinel', () => {
    const vars = { rule: ruleVars(rule), query: 'x', target: 'kql', context: {} }
    expect(formatFindings('kql', 'sentinel', vars).map((f) => f.message)).toEqual([
      "kql format 'sentinel': ATT&CK tactic 'stealth' (v19) is not in ATT&CK v18.1; written as Defense Evasion, the tactic it was split from",
      "kql format 'sentinel': ATT&CK tactic 'defense-impairment' (v19) is not in ATT&CK v18.1; written as Defense Evasion, the tactic it was split from",
    ])
    expect(formatFindings('eql', 'elastic', { ...vars, target: 'eql' })[0]!.message).toBe(
      "eql format 'elastic': ATT&CK tactic 'stealth' (v19) is not in ATT&CK v18.1; written as Defense Evasion, the tactic it was split from",
    )
    expect(formatFindings('kql', 'default', vars)).toEqual([])
    const long = { ...vars, rule: ruleVars(loadRuleText(ruleText(), 'r.yml').rules[0]!) }
    expect(formatFindings('kql', 'sentinel', { ...long, query: 'x'.repeat(SENTINEL_QUERY_LIMIT) })).toEqual([])
    expect(formatFindings('kql', 'sentinel', { ...long, query: 'x'.repeat(SENTINEL_QUERY_LIMIT + 1) })).toEqual([
      {
        code: 'format/query-too-long',
        message: "kql format 'sentinel': the query has 10001 characters; Sentinel analytics rules take at most 10000",
      },
    ])
  })

  it('compile reports the warnings at the rule (exit stays 0)', async () => {
    const dir = scratch()
    const file = write(join(dir, 'r.yml'), ruleText() + TAGS + '\n')
    const r = await compileFiles([file], {
      targets: ['kql'],
      formats: { kql: { name: 'sentinel' } },
      options: { kql: { variant: 'sentinel' } },
      placeholders: {},
    })
    const warnings = r.rules[0]!.results.kql!.diagnostics.filter((d) => d.code === 'format/attack-mapped')
    expect(warnings.map((d) => [d.severity, d.file, d.at?.line])).toEqual([
      ['warning', file, 0],
      ['warning', file, 0],
    ])
  })
})
