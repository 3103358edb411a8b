/**
 * MITRE ATT&CK facts read from Sigma tags (`attack.t1489`, `attack.impact`), resolved against one
 * ATT&CK release (attack-data.generated.ts, from ATT&CK's own STIX data: the version is in every
 * bundle's manifest), and spelt the way each consumer takes them.
 *
 * Every consumer here validates against an ATT&CK no newer than that release (Sentinel's technique
 * table is older still), while Sigma rules already use ATT&CK v19 names. A tag the release does not
 * hold is written as its nearest accepted parent, with a warning; one with no such parent is left
 * out, with a warning. Nothing invalid is written.
 */
import { ATTACK_SOURCE, ATTACK_TACTICS, ATTACK_TECHNIQUES, ATTACK_VERSION } from './attack-data.generated.js'
import { entryOf, first, must } from '../guards.js'

export { ATTACK_SOURCE, ATTACK_VERSION }

export interface Attack {
  /** Tactic short names as in the tags, e.g. `impact`, `defense-evasion`, `stealth`. */
  readonly tactics: readonly string[]
  /** Tactic display names, e.g. `Impact`, `Stealth`. */
  readonly tacticNames: readonly string[]
  /** Technique ids, upper case, as in the tags, e.g. `T1489`, `T1562.001`. */
  readonly techniques: readonly string[]
}

/**
 * ATT&CK v19 split Defense Evasion into Stealth (which kept the id TA0005) and the new Defense
 * Impairment (TA0112); SigmaHQ tags use both. They are tags rulesmith recognises, and are written
 * as Defense Evasion, the tactic they came from, for consumers on the data's release.
 */
const NEWER_TACTICS: Readonly<Record<string, { name: string; id: string; parent: string }>> = {
  stealth: { name: 'Stealth', id: 'TA0005', parent: 'defense-evasion' },
  'defense-impairment': { name: 'Defense Impairment', id: 'TA0112', parent: 'defense-evasion' },
}

/** Every tactic a tag may name, by short name, with its id and name (the release's, then v19's two). */
export const TACTICS: Readonly<Record<string, { name: string; id: string }>> = {
  ...Object.fromEntries(ATTACK_TACTICS.map(([id, short, name]) => [short, { name, id }])),
  ...Object.fromEntries(Object.entries(NEWER_TACTICS).map(([k, v]) => [k, { name: v.name, id: v.id }])),
}

/** Matrix order of the release's tactics, for a stable order of derived tactics. */
const TACTIC_ORDER = new Map(ATTACK_TACTICS.map(([, short], i) => [short, i]))

/**
 * ATT&CK v19 technique ids that replaced release-18 ones, mapped back to where they came from. The
 * pairs are Elastic detection-rules' v18 → v19 version map
 * (detection_rules/etc/attack-version-maps/attack_v18_to_v19.yaml at 14cf530f0d), reversed; where
 * several v18 ids became one v19 id, the technique (not a sub-technique) is named.
 */
const FROM_V19: Readonly<Record<string, string>> = {
  T1685: 'T1562', // Disable or Modify Tools ← Impair Defenses (and .001, .006)
  'T1685.001': 'T1562.002', // Disable or Modify Windows Event Log
  'T1685.002': 'T1562.008', // Disable or Modify Cloud Log
  'T1685.005': 'T1070.001', // Clear Windows Event Logs
  'T1685.006': 'T1070.002', // Clear Linux or Mac System Logs
  T1686: 'T1562.004', // Disable or Modify System Firewall
  'T1686.001': 'T1562.007', // Cloud Firewall
  T1689: 'T1562.010', // Downgrade Attack
  'T1684.001': 'T1656', // Impersonation
}

export function attackOf(tags: readonly string[]): Attack {
  const tactics: string[] = []
  const techniques: string[] = []
  for (const tag of tags) {
    const m = /^attack\.(.+)$/.exec(tag.toLowerCase())
    if (!m) continue
    const rest = must(m[1], 'the group matched').replace(/_/g, '-')
    if (/^t\d{4}(\.\d{3})?$/.test(rest)) techniques.push(rest.toUpperCase())
    else if (TACTICS[rest]) tactics.push(rest)
  }
  return { tactics, tacticNames: tactics.map((t) => entryOf(TACTICS, t).name), techniques }
}

// --- resolution against the release --------------------------------------------------------------

export interface Technique {
  /** The release's id, e.g. `T1562.002`. */
  readonly id: string
  readonly name: string
  /** Tactic short names the release puts the technique under. */
  readonly tactics: readonly string[]
}

/** Something written differently from the rule's tags: what, and why. */
export interface AttackNote {
  readonly code: 'format/attack-mapped' | 'format/attack-dropped'
  readonly message: string
}

export interface ResolvedAttack {
  /** The release's tactic short names, in the rule's order, once each. */
  readonly tactics: readonly string[]
  /** The release's current techniques, in the rule's order, once each. */
  readonly techniques: readonly Technique[]
  readonly notes: readonly AttackNote[]
}

const release = `ATT&CK v${ATTACK_VERSION}`

export function techniqueOf(id: string): Technique | undefined {
  const row = ATTACK_TECHNIQUES[id]
  if (!row || row[2] !== '') return undefined
  return { id, name: row[0], tactics: row[1] ? row[1].split(',') : [] }
}

/** The release's current technique for a tag's id, and why it differs from the id; undefined when there is none. */
function resolveTechnique(id: string, depth = 0): { technique?: Technique; why?: string } {
  const current = techniqueOf(id)
  if (current) return { technique: current }
  if (depth > 4) return {}
  const row = ATTACK_TECHNIQUES[id]
  const parent = id.includes('.') ? first(id.split('.')) : undefined
  const via = (next: string, why: string) => {
    const r = resolveTechnique(next, depth + 1)
    return r.technique ? { technique: r.technique, why } : r
  }
  if (row?.[2].startsWith('revoked:') && row[2].length > 'revoked:'.length)
    return via(row[2].slice('revoked:'.length), `revoked in ${release}, replaced by ${row[2].slice(8)}`)
  if (row && parent) return via(parent, `${row[2].replace(/:.*/, '')} in ${release}; written as its parent ${parent}`)
  if (!row && FROM_V19[id])
    return via(
      entryOf(FROM_V19, id),
      `an ATT&CK v19 id, not in ${release}; written as ${FROM_V19[id]}, which it replaced`,
    )
  if (!row && parent) return via(parent, `not in ${release}; written as its parent ${parent}`)
  return {}
}

/** The rule's tactics and techniques in the release's terms, with a note for every change. */
export function resolveAttack(attack: Attack): ResolvedAttack {
  const notes: AttackNote[] = []
  const tactics: string[] = []
  for (const t of attack.tactics) {
    const newer = NEWER_TACTICS[t]
    const known = newer ? newer.parent : t
    if (newer)
      notes.push({
        code: 'format/attack-mapped',
        message: `ATT&CK tactic '${t}' (v19) is not in ${release}; written as ${entryOf(TACTICS, known).name}, the tactic it was split from`,
      })
    if (!tactics.includes(known)) tactics.push(known)
  }
  const techniques: Technique[] = []
  for (const id of attack.techniques) {
    const r = resolveTechnique(id)
    const technique = r.technique
    if (!technique)
      notes.push({
        code: 'format/attack-dropped',
        message: `ATT&CK technique ${id} is not in ${release} and has no parent there; left out`,
      })
    else {
      if (r.why) notes.push({ code: 'format/attack-mapped', message: `ATT&CK technique ${id} is ${r.why}` })
      if (!techniques.some((t) => t.id === technique.id)) techniques.push(technique)
    }
  }
  return { tactics, techniques, notes }
}

const byMatrix = (a: string, b: string) => (TACTIC_ORDER.get(a) ?? 99) - (TACTIC_ORDER.get(b) ?? 99)

// --- Elastic -------------------------------------------------------------------------------------

const tacticRef = (id: string) => `https://attack.mitre.org/tactics/${id}/`
const techniqueRef = (id: string) => `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`

/**
 * Elastic's `threat` array: one entry per tactic, each listing only the techniques ATT&CK puts
 * under it (detection-rules' test_tactic_to_technique_correlations), sub-techniques under their
 * technique, with ids, names and references from the release. A technique under none of the rule's
 * tactics brings its own first tactic, so no technique is lost.
 */
export function elasticThreat(resolved: ResolvedAttack): unknown[] {
  const tactics = [...resolved.tactics]
  for (const t of resolved.techniques)
    if (!t.tactics.some((x) => tactics.includes(x)) && t.tactics.length)
      tactics.push(first([...t.tactics].sort(byMatrix)))
  return tactics.map((short) => {
    const tactic = entryOf(TACTICS, short)
    const byParent = new Map<string, Technique[]>()
    for (const t of resolved.techniques.filter((x) => x.tactics.includes(short))) {
      const parent = first(t.id.split('.'))
      const subs = byParent.get(parent) ?? []
      if (t.id !== parent) subs.push(t)
      byParent.set(parent, subs)
    }
    const technique = [...byParent].map(([id, subs]) => ({
      id,
      name: ATTACK_TECHNIQUES[id]?.[0] ?? id,
      reference: techniqueRef(id),
      ...(subs.length
        ? { subtechnique: subs.map((s) => ({ id: s.id, name: s.name, reference: techniqueRef(s.id) })) }
        : {}),
    }))
    return {
      framework: 'MITRE ATT&CK',
      tactic: { id: tactic.id, name: tactic.name, reference: tacticRef(tactic.id) },
      ...(technique.length ? { technique } : {}),
    }
  })
}

// --- Sentinel and Defender -----------------------------------------------------------------------

/**
 * Sentinel's `tactics` enum and Defender XDR's alert categories spell a tactic as its name in
 * PascalCase with every word capitalised: "CommandAndControl", not "CommandandControl" (the
 * AttackTactic enum of Azure-Sentinel's detection-template validation,
 * .script/tests/detectionTemplateSchemaValidation/Models/AttackTactic.cs).
 */
export function sentinelSpelling(short: string): string {
  return entryOf(TACTICS, short)
    .name.replace(/(^|\s)(\w)/g, (_, _s: string, c: string) => c.toUpperCase())
    .replace(/\s/g, '')
}

/**
 * Sentinel's technique table: the tactics each technique needs in `tactics` (Azure-Sentinel
 * .script/tests/detectionTemplateSchemaValidation/Models/ModelValidationAttributes/
 * KillChainTechniquesHelper.cs at cbdb7dfef1a4, enterprise rows; PreAttack is no AttackTactic and
 * is left out, as the validation's AsAttackTactics does). NoTechniquesWithoutMatchingTactics
 * rejects a technique (compared without its sub-technique) that the table does not hold, or whose
 * table tactics are not all in `tactics`. src/formats/consumers/sentinel.ts keeps its own copy on
 * purpose: the schema check must not read the table the formatter maps with, or a misreading of
 * the validation here would pass there too.
 */
const SENTINEL_TABLE: Readonly<Record<string, string>> = {
  InitialAccess: 'T1078 T1091 T1133 T1195 T1199 T1200 T1189 T1190 T1566',
  Persistence:
    'T1037 T1053 T1078 T1098 T1136 T1137 T1176 T1197 T1133 T1205 T1505 T1525 T1542 T1543 T1546 T1547 T1554 T1574 T1556',
  PrivilegeEscalation: 'T1037 T1053 T1055 T1068 T1078 T1134 T1484 T1543 T1546 T1547 T1548 T1574 T1611',
  DefenseEvasion:
    'T1006 T1014 T1027 T1036 T1055 T1070 T1078 T1112 T1127 T1134 T1140 T1197 T1202 T1205 T1207 T1211 T1216 T1218 T1220 T1221 T1222 T1480 T1484 T1497 T1535 T1542 T1548 T1550 T1553 T1556 T1562 T1564 T1574 T1578 T1599 T1600 T1601 T1612 T1610',
  CredentialAccess:
    'T1003 T1040 T1056 T1110 T1111 T1187 T1212 T1528 T1539 T1552 T1555 T1556 T1557 T1558 T1606 T1613 T1614 T1621',
  Discovery:
    'T1007 T1010 T1012 T1016 T1018 T1033 T1040 T1046 T1049 T1057 T1069 T1082 T1083 T1087 T1120 T1124 T1135 T1201 T1217 T1482 T1497 T1518 T1526 T1538 T1580',
  LateralMovement: 'T1021 T1072 T1080 T1091 T1210 T1534 T1550 T1563 T1570',
  Execution: 'T1047 T1053 T1059 T1072 T1106 T1129 T1203 T1204 T1559 T1569',
  Collection:
    'T1005 T1025 T1039 T1056 T1074 T1113 T1114 T1115 T1119 T1123 T1125 T1185 T1213 T1530 T1557 T1560 T1602 T1609 T1610',
  Exfiltration: 'T1011 T1020 T1029 T1030 T1041 T1048 T1052 T1537 T1567',
  CommandAndControl: 'T1001 T1008 T1071 T1090 T1092 T1095 T1102 T1104 T1105 T1132 T1205 T1219 T1568 T1571 T1572 T1573',
  Impact: 'T1485 T1486 T1489 T1490 T1491 T1495 T1496 T1498 T1499 T1529 T1531 T1561 T1565',
  Reconnaissance: 'T1595 T1592 T1589 T1590 T1591 T1598 T1597 T1596 T1593 T1594',
  ResourceDevelopment: 'T1583 T1586 T1584 T1587 T1585 T1588 T1608',
}

/** Sentinel's tactics for a technique (compared without its sub-technique), in the enum's order. */
export const SENTINEL_TECHNIQUE_TACTICS: ReadonlyMap<string, readonly string[]> = (() => {
  const m = new Map<string, string[]>()
  for (const [tactic, ids] of Object.entries(SENTINEL_TABLE))
    for (const id of ids.split(' ')) m.set(id, [...(m.get(id) ?? []), tactic])
  return m
})()

export interface SentinelAttack {
  readonly tactics: readonly string[]
  /** For `relevantTechniques`: the release's ids, sub-techniques kept. */
  readonly techniques: readonly string[]
  readonly notes: readonly AttackNote[]
}

/**
 * Tactics and techniques as Sentinel's validation takes them: the rule's tactics in Sentinel's
 * spelling, plus every tactic Sentinel's table ties to a technique the rule names (a technique is
 * in those tactics by ATT&CK's own account); a technique the table does not hold is left out, with
 * a warning, since Sentinel rejects it whatever the tactics.
 */
export function sentinelAttack(resolved: ResolvedAttack): SentinelAttack {
  const notes: AttackNote[] = []
  const tactics = resolved.tactics.map(sentinelSpelling)
  const techniques: string[] = []
  for (const t of resolved.techniques) {
    const needs = SENTINEL_TECHNIQUE_TACTICS.get(first(t.id.split('.')))
    if (!needs) {
      notes.push({
        code: 'format/attack-dropped',
        message: `ATT&CK technique ${t.id} (${t.name}) is not in Sentinel's technique table; left out of its techniques`,
      })
      continue
    }
    techniques.push(t.id)
    for (const n of needs) if (!tactics.includes(n)) tactics.push(n)
  }
  return { tactics, techniques, notes }
}
