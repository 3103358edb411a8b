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
