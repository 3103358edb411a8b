/**
 * What the shipped formats show beside the query: severities, ATT&CK blocks, schedules, names and
 * pack descriptions, derived from the rule's metadata and the backend's target facts (table, index,
 * evented …). Backends state facts about the query; how a vendor's rule file presents them is here.
 */
import { elasticThreat, resolveAttack, sentinelAttack, TACTICS } from './attack.js'
import type { RuleVars } from './render.js'
import { requiredDataConnectors } from './sentinel-connectors.js'
import { entryOf, first, isMap } from '../guards.js'

type Context = Readonly<Record<string, unknown>>

/** The presentation values of one target's formats, to be merged over the backend's context. */
export function presentation(target: string, rule: RuleVars, context: Context): Record<string, unknown> {
  switch (target) {
    case 'spl':
      return { savedsearch: savedsearch(rule, context) }
    case 'kql':
      return kql(rule, context)
    case 'eql':
      return eql(rule)
    case 'osquery':
      return osquery(rule, context)
    default:
      return {}
  }
}

// --- spl: savedsearches.conf -----------------------------------------------------------------

/** Splunk alert severity from the Sigma level (savedsearches.conf `alert.severity`, 1–6). */
const SPL_SEVERITY: Readonly<Record<string, number>> = { informational: 2, low: 3, medium: 4, high: 5, critical: 6 }

/**
 * The stanza name, description and author as the rule has them, the schedule from the target's
 * `savedsearch` settings: the savedsearches template escapes each for .conf (src/formats/escape.ts).
 */
function savedsearch(rule: RuleVars, context: Context): Record<string, unknown> {
  const s = isMap(context.schedule) ? context.schedule : {}
  const resolved = resolveAttack(rule.attack)
  return {
    stanza: `Sigma - ${rule.title}`,
    description: rule.description || rule.title,
    author: rule.author,
    cron_schedule: typeof s.cron_schedule === 'string' ? s.cron_schedule : '*/10 * * * *',
    earliest_time: typeof s.earliest_time === 'string' ? s.earliest_time : '-10m@m',
    latest_time: typeof s.latest_time === 'string' ? s.latest_time : 'now',
    severity: SPL_SEVERITY[rule.level.toLowerCase()] ?? 3,
    // ES annotations: technique ids and tactic names of the ATT&CK release (attack.ts).
    mitreAttack: resolved.techniques.map((t) => t.id),
    mitreTactics: resolved.tactics.map((t) => entryOf(TACTICS, t).name),
  }
}

// --- kql: Sentinel and Defender rule files -----------------------------------------------------

/** Sigma level → Sentinel severity (Informational|Low|Medium|High) and Graph alert severity. */
const KQL_SEVERITY: Readonly<Record<string, readonly [string, string]>> = {
  informational: ['Informational', 'informational'],
  low: ['Low', 'low'],
  medium: ['Medium', 'medium'],
  high: ['High', 'high'],
  critical: ['High', 'high'],
}

function kql(rule: RuleVars, context: Context): Record<string, unknown> {
  const [severity, defenderSeverity] = KQL_SEVERITY[rule.level.toLowerCase()] ?? ['Medium', 'medium']
  // Sentinel's tactics and Defender's categories: "DefenseEvasion", "CommandAndControl", with the
  // tactics Sentinel's technique table ties to each technique (attack.ts).
  const resolved = resolveAttack(rule.attack)
  const sentinel = sentinelAttack(resolved)
  // The alertRules API's `techniques` take parent techniques (T1562, not T1562.001).
  const techniques = [...new Set(sentinel.techniques.map((t) => first(t.split('.'))))]
  return {
    severity,
    defenderSeverity,
    tactics: sentinel.tactics,
    relevantTechniques: sentinel.techniques,
    techniques,
    // Defender's alert category: the rule's first tactic; mitreTechniques: the release's ids.
    category: sentinel.tactics[0] ?? 'SuspiciousActivity',
    mitreTechniques: resolved.techniques.map((t) => t.id),
    // Sentinel: the connectors that fill the tables the query reads (sentinel-connectors.ts).
    requiredDataConnectors: requiredDataConnectors(tablesOf(context)),
    // Defender: created disabled unless `.rulesmith.yml` says `defender: { enabled-on-import: true }`.
    enabledOnImport: context.enabledOnImport === true,
  }
}

/** The tables a query reads: the backend's `table`, or `tables` for a query over several. */
function tablesOf(context: Context): string[] {
  if (Array.isArray(context.tables)) return context.tables.filter((t): t is string => typeof t === 'string')
  return typeof context.table === 'string' ? [context.table] : []
}

// --- eql: Elastic detection rules --------------------------------------------------------------

/**
 * Elastic's severity and risk score for a Sigma level, at the top of each of Elastic's ranges
 * (low 0–21, medium 22–47, high 48–73, critical 74–100: detection-rules' TestRiskScoreMismatch).
 */
const EQL_MEDIUM = ['medium', 47] as const
const EQL_SEVERITY: Readonly<Record<string, readonly [string, number]>> = {
  informational: ['low', 21],
  low: ['low', 21],
  medium: ['medium', 47],
  high: ['high', 73],
  critical: ['critical', 99],
}

function eql(rule: RuleVars): Record<string, unknown> {
  const [severity, riskScore] = EQL_SEVERITY[rule.level] ?? EQL_MEDIUM
  return { severity, riskScore, threat: elasticThreat(resolveAttack(rule.attack)) }
}

// --- osquery: packs and Fleet queries ----------------------------------------------------------

function osquery(rule: RuleVars, context: Context): Record<string, unknown> {
  const evented = context.evented === true
  return {
    name: queryName(rule),
    // Evented rows are new once; state tables report what changed since the last run.
    // Fleet `logging` ↔ osquery snapshot/removed: fleetdm/fleet docs (REST API, "logging").
    snapshot: false,
    removed: !evented,
    logging: evented ? 'differential_ignore_removals' : 'differential',
    value: packValue(rule),
  }
}

/** A name for the scheduled query: lower-case words joined by `_` (osquery prefixes pack names). */
function queryName(rule: RuleVars): string {
  const base = (rule.name || rule.title)
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return (base || 'sigma_rule').slice(0, 80)
}

/** The pack's `value` (why the query matters): the Sigma rule it came from, its level and ATT&CK techniques. */
function packValue(rule: RuleVars): string {
  const techniques = rule.attack.techniques
  return [
    `Sigma rule ${rule.id ? `${rule.id} ` : ''}"${rule.title}"`,
    rule.level ? `level ${rule.level}` : '',
    techniques.length > 0 ? `ATT&CK ${techniques.join(', ')}` : '',
  ]
    .filter((s) => s !== '')
    .join('; ')
}
