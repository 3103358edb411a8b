/** MITRE ATT&CK facts read from Sigma tags (`attack.t1489`, `attack.impact`). */

export interface Attack {
  /** Tactic short names as in the tags, e.g. `impact`, `defense-evasion`. */
  readonly tactics: readonly string[]
  /** Tactic display names, e.g. `Impact`, `Defense Evasion`. */
  readonly tacticNames: readonly string[]
  /** Technique ids, upper case, e.g. `T1489`, `T1562.001`. */
  readonly techniques: readonly string[]
}

/** The enterprise tactics, in ATT&CK's own order, with their ids. */
export const TACTICS: Readonly<Record<string, { name: string; id: string }>> = {
  reconnaissance: { name: 'Reconnaissance', id: 'TA0043' },
  'resource-development': { name: 'Resource Development', id: 'TA0042' },
  'initial-access': { name: 'Initial Access', id: 'TA0001' },
  execution: { name: 'Execution', id: 'TA0002' },
  persistence: { name: 'Persistence', id: 'TA0003' },
  'privilege-escalation': { name: 'Privilege Escalation', id: 'TA0004' },
  'defense-evasion': { name: 'Defense Evasion', id: 'TA0005' },
  // ATT&CK v18 split Defense Evasion into Stealth and Defense Impairment; SigmaHQ tags use both
  // names. Their tactic ids were not confirmed here, so formats leave the id empty.
  stealth: { name: 'Stealth', id: '' },
  'defense-impairment': { name: 'Defense Impairment', id: '' },
  'credential-access': { name: 'Credential Access', id: 'TA0006' },
  discovery: { name: 'Discovery', id: 'TA0007' },
  'lateral-movement': { name: 'Lateral Movement', id: 'TA0008' },
  collection: { name: 'Collection', id: 'TA0009' },
  'command-and-control': { name: 'Command and Control', id: 'TA0011' },
  exfiltration: { name: 'Exfiltration', id: 'TA0010' },
  impact: { name: 'Impact', id: 'TA0040' },
}

export function attackOf(tags: readonly string[]): Attack {
  const tactics: string[] = []
  const techniques: string[] = []
  for (const tag of tags) {
    const m = /^attack\.(.+)$/.exec(tag.toLowerCase())
    if (!m) continue
    const rest = m[1]!.replace(/_/g, '-')
    if (/^t\d{4}(\.\d{3})?$/.test(rest)) techniques.push(rest.toUpperCase())
    else if (TACTICS[rest]) tactics.push(rest)
  }
  return { tactics, tacticNames: tactics.map((t) => TACTICS[t]!.name), techniques }
}

// --- per-consumer spelling -----------------------------------------------------------------------

/**
 * A tactic as one consumer accepts it, and the tag's own tactic when the consumer does not know it
 * and the nearest accepted parent was written instead (a warning: src/formats/findings.ts).
 */
export interface ConsumerTactic {
  readonly tactic: string
  /** Set when the tag's tactic was replaced by its parent. */
  readonly mappedFrom?: string
}

/**
 * ATT&CK v18 split Defense Evasion into Stealth and Defense Impairment. Consumers that validate
 * tactics against an older ATT&CK (Sentinel's enum, Defender's categories, Elastic's
 * detection-rules) do not know the new two: each is written as Defense Evasion, the tactic it came
 * from, with a warning — never as a name the consumer rejects.
 */
const PARENT: Readonly<Record<string, string>> = { stealth: 'defense-evasion', 'defense-impairment': 'defense-evasion' }

/**
 * Sentinel's `tactics` enum and Defender XDR's alert categories spell tactics as the display name in
 * PascalCase with every word capitalised: "CommandAndControl", not "CommandandControl" (the schema
 * Azure-Sentinel's detection-template validation checks: .script/tests/detectionTemplateSchemaValidation).
 */
export function sentinelTactic(tactic: string): ConsumerTactic {
  const known = PARENT[tactic] ?? tactic
  const name = TACTICS[known]!.name.replace(/(^|\s)(\w)/g, (_, _s: string, c: string) => c.toUpperCase()).replace(
    /\s/g,
    '',
  )
  return known === tactic ? { tactic: name } : { tactic: name, mappedFrom: tactic }
}

/** Elastic's `threat[].tactic`: ATT&CK's id, name and reference, for a tactic Elastic's ATT&CK knows. */
export function elasticTactic(tactic: string): ConsumerTactic & { id: string; name: string } {
  const known = PARENT[tactic] ?? tactic
  const t = TACTICS[known]!
  return { tactic: known, id: t.id, name: t.name, ...(known === tactic ? {} : { mappedFrom: tactic }) }
}

/** The consumer's spelling of every tactic, in order, without repeats (Stealth and Defense Evasion are one). */
export function consumerTactics<T extends ConsumerTactic>(tactics: readonly string[], spell: (t: string) => T): T[] {
  const seen = new Set<string>()
  return tactics.map(spell).filter((t) => (seen.has(t.tactic) ? false : (seen.add(t.tactic), true)))
}
