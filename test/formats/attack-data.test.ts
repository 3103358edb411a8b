/**
 * The ATT&CK release behind every format (issue 20): technique names from ATT&CK's own data, tags
 * of a newer or older ATT&CK written as their nearest parent in the release with a note, and each
 * consumer's own rules (Elastic: techniques only under their tactics; Sentinel: every technique in
 * its table, with all the tactics the table ties to it).
 */
import { describe, expect, it } from 'vitest'
import {
  ATTACK_VERSION,
  attackOf,
  elasticThreat,
  resolveAttack,
  sentinelAttack,
  SENTINEL_TECHNIQUE_TACTICS,
  techniqueOf,
} from '../../src/formats/attack.js'
import { ATTACK_TACTICS, ATTACK_TECHNIQUES } from '../../src/formats/attack-data.generated.js'

const tags = (...t: string[]) => attackOf(t.map((x) => `attack.${x}`))

describe('ATT&CK data', () => {
  it('is one versioned release with 14 enterprise tactics and named techniques', () => {
    expect(ATTACK_VERSION).toMatch(/^\d+\.\d+$/)
    expect(ATTACK_TACTICS.map(([id]) => id)).toContain('TA0040')
    expect(ATTACK_TACTICS).toHaveLength(14)
    expect(techniqueOf('T1489')).toEqual({ id: 'T1489', name: 'Service Stop', tactics: ['impact'] })
    expect(techniqueOf('T1562.001')?.name).toBe('Disable or Modify Tools')
    expect(Object.keys(ATTACK_TECHNIQUES).length).toBeGreaterThan(600)
  })

  it('a revoked technique is written as the one that replaced it, with a note', () => {
    const r = resolveAttack(tags('t1002'))
    expect(r.techniques.map((t) => t.id)).toEqual(['T1560'])
    expect(r.notes).toEqual([
      {
        code: 'format/attack-mapped',
        message: `ATT&CK technique T1002 is revoked in ATT&CK v${ATTACK_VERSION}, replaced by T1560`,
      },
    ])
  })

  it('v19 ids go back to what they replaced; an unknown sub-technique to its parent; no parent is dropped', () => {
    const r = resolveAttack(tags('defense-impairment', 't1685.001', 't1685.004', 't9999', 't1489'))
    expect(r.tactics).toEqual(['defense-evasion'])
    expect(r.techniques.map((t) => [t.id, t.name])).toEqual([
      ['T1562.002', 'Disable Windows Event Logging'],
      ['T1562', 'Impair Defenses'],
      ['T1489', 'Service Stop'],
    ])
    expect(r.notes.map((n) => n.code)).toEqual([
      'format/attack-mapped',
      'format/attack-mapped',
      'format/attack-mapped',
      'format/attack-dropped',
    ])
    expect(r.notes[3]!.message).toContain('T9999')
  })

  it('elastic: each technique only under a tactic ATT&CK puts it in; a technique of no tagged tactic brings its own', () => {
    const threat = elasticThreat(resolveAttack(tags('impact', 't1489', 't1059.001'))) as {
      tactic: { id: string; name: string; reference: string }
      technique?: { id: string; name: string; subtechnique?: { id: string; name: string; reference: string }[] }[]
    }[]
    expect(threat.map((t) => [t.tactic.id, t.tactic.name, t.technique?.map((x) => x.id)])).toEqual([
      ['TA0040', 'Impact', ['T1489']],
      ['TA0002', 'Execution', ['T1059']],
    ])
    expect(threat[1]!.technique![0]).toEqual({
      id: 'T1059',
      name: 'Command and Scripting Interpreter',
      reference: 'https://attack.mitre.org/techniques/T1059/',
      subtechnique: [
        { id: 'T1059.001', name: 'PowerShell', reference: 'https://attack.mitre.org/techniques/T1059/001/' },
      ],
    })
  })

  it('sentinel: a technique brings every tactic its table ties to it; one outside the table is dropped', () => {
    const s = sentinelAttack(resolveAttack(tags('persistence', 't1078', 't1620')))
    expect(s.tactics).toEqual(['Persistence', 'InitialAccess', 'PrivilegeEscalation', 'DefenseEvasion'])
    expect(s.techniques).toEqual(['T1078'])
    expect(s.notes.map((n) => n.code)).toEqual(['format/attack-dropped'])
    expect(SENTINEL_TECHNIQUE_TACTICS.get('T1489')).toEqual(['Impact'])
  })
})
