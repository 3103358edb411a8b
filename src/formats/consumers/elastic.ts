/**
 * Elastic detection-rules' EQL rule schema, re-expressed as data: the fields, types, enums and
 * patterns of detection_rules/etc/api_schemas/master/master.eql.json (elastic/detection-rules at
 * 14cf530f0d, the newest stack schema there; no extra properties), and the ATT&CK checks of its
 * tests/test_all_rules.py TestThreatMappings (tactic name ↔ id, technique and sub-technique names,
 * techniques only under their tactic, reference urls naming the same id, one entry per tactic)
 * against ATT&CK's data (attack-data.generated.ts). It imports nothing from the formats it checks.
 */
import { ATTACK_TACTICS, ATTACK_TECHNIQUES } from '../attack-data.generated.js'
import { ajvGuard, type Violation } from './ajv.js'
import { errorMessage } from '../../guards.js'

/** A tactic, technique or sub-technique entry of `threat`: id and name required, a reference link of the given shape. */
const attackEntry = (reference: string, more: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    reference: { type: 'string', pattern: reference },
    ...more,
  },
})

const strings = { type: 'array', items: { type: 'string' } }

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['author', 'description', 'language', 'severity', 'type'],
  properties: {
    actions: { type: 'array' },
    alert_suppression: { type: 'object' },
    author: strings,
    building_block_type: { type: 'string' },
    data_view_id: { type: 'string' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    event_category_override: { type: 'string' },
    exceptions_list: { type: 'array' },
    false_positives: strings,
    filters: { type: 'array' },
    from: { type: 'string' },
    index: strings,
    interval: { type: 'string', pattern: '^\\d+[mshd]$' },
    investigation_fields: { type: 'object' },
    language: { enum: ['eql'] },
    license: { type: 'string' },
    max_signals: { type: 'integer', minimum: 1 },
    meta: { type: 'object' },
    name: { type: 'string' },
    note: { type: 'string' },
    query: { type: 'string' },
    references: strings,
    related_integrations: { type: 'array' },
    required_fields: { type: 'array' },
    response_actions: { type: 'array' },
    revision: { type: 'integer' },
    risk_score: { type: 'integer', minimum: 0, maximum: 100 },
    risk_score_mapping: { type: 'array' },
    rule_id: { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
    rule_name_override: { type: 'string' },
    setup: { type: 'string' },
    severity: { enum: ['low', 'medium', 'high', 'critical'] },
    severity_mapping: { type: 'array' },
    tags: strings,
    threat: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['framework', 'tactic'],
        properties: {
          framework: { enum: ['MITRE ATT&CK', 'MITRE ATLAS'] },
          tactic: attackEntry('^https://attack\\.mitre\\.org/tactics/TA[0-9]+/$'),
          technique: {
            type: 'array',
            items: attackEntry('^https://attack\\.mitre\\.org/techniques/T[0-9]+/$', {
              subtechnique: {
                type: 'array',
                items: attackEntry('^https://attack\\.mitre\\.org/techniques/T[0-9]+/[0-9]+/$'),
              },
            }),
          },
        },
      },
    },
    threat_mappings: { type: 'array' },
    throttle: { type: 'string' },
    tiebreaker_field: { type: 'string' },
    timeline_id: { type: 'string' },
    timeline_title: { type: 'string' },
    timestamp_field: { type: 'string' },
    timestamp_override: { type: 'string' },
    to: { type: 'string' },
    type: { enum: ['eql'] },
    version: { type: 'integer', minimum: 1 },
  },
}

const tacticIdByName = new Map(ATTACK_TACTICS.map(([id, , name]) => [name, id]))
const tacticShortByName = new Map(ATTACK_TACTICS.map(([, short, name]) => [name, short]))

interface Threat {
  framework: string
  tactic: { id: string; name: string; reference?: string }
  technique?: {
    id: string
    name: string
    reference?: string
    subtechnique?: { id: string; name: string; reference?: string }[]
  }[]
}

/** What detection-rules' schema and ATT&CK checks reject in one NDJSON line; empty when it passes. */
export function checkElasticRule(line: string): Violation[] {
  let doc: unknown
  try {
    doc = JSON.parse(line)
  } catch (e) {
    return [{ path: '', message: `not JSON: ${errorMessage(e)}` }]
  }
  const out: Violation[] = []
  if (!ajvGuard<{ threat?: Threat[] }>('elastic-eql', SCHEMA)(doc, out)) return out
  const threat = doc.threat ?? []
  const seen = new Set<string>()
  const current = (id: string) => ATTACK_TECHNIQUES[id]?.[2] === ''
  for (const [i, t] of threat.entries()) {
    const at = `/threat/${i}`
    if (seen.has(t.tactic.name)) out.push({ path: at, message: `tactic ${t.tactic.name} listed twice` })
    seen.add(t.tactic.name)
    const id = tacticIdByName.get(t.tactic.name)
    if (id !== t.tactic.id)
      out.push({ path: `${at}/tactic`, message: `unknown tactic ${t.tactic.name} (${t.tactic.id})` })
    if (t.tactic.reference && !t.tactic.reference.endsWith(`/${t.tactic.id}/`))
      out.push({ path: `${at}/tactic/reference`, message: 'reference names another tactic' })
    const short = tacticShortByName.get(t.tactic.name) ?? ''
    for (const tech of t.technique ?? []) {
      const row = ATTACK_TECHNIQUES[tech.id]
      if (!row || !current(tech.id)) out.push({ path: at, message: `unknown or revoked technique ${tech.id}` })
      else {
        if (row[0] !== tech.name) out.push({ path: at, message: `${tech.id} is "${row[0]}", not "${tech.name}"` })
        if (!row[1].split(',').includes(short))
          out.push({ path: at, message: `${tech.id} is not under ${t.tactic.name}` })
      }
      if (tech.reference && !tech.reference.endsWith(`/${tech.id}/`))
        out.push({ path: at, message: `reference of ${tech.id} names another technique` })
      for (const sub of tech.subtechnique ?? []) {
        const srow = ATTACK_TECHNIQUES[sub.id]
        if (!srow || !current(sub.id) || !sub.id.startsWith(`${tech.id}.`))
          out.push({ path: at, message: `unknown, revoked or misplaced sub-technique ${sub.id}` })
        else if (srow[0] !== sub.name) out.push({ path: at, message: `${sub.id} is "${srow[0]}", not "${sub.name}"` })
        if (sub.reference && !sub.reference.endsWith(`/${sub.id.replace('.', '/')}/`))
          out.push({ path: at, message: `reference of ${sub.id} names another sub-technique` })
      }
    }
  }
  return out
}
