/** The eql formats: `default` (the query) and `elastic` (one NDJSON line for Kibana's rule import). */
import { describe, expect, test } from 'vitest'
import { backend } from '../../src/backends/eql.js'
import { formatsOf, renderFormat, ruleVars } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'

const RULE = `title: Defender service stopped via "sc"
id: 2a9c6c0e-4f57-4a8e-9f1c-3d2b1a0e9f88
status: test
description: Detects sc.exe stopping WinDefend.
references:
  - https://example.org/a
author: Jane Doe, John Roe
date: 2026-01-02
tags:
  - attack.impact
  - attack.defense-evasion
  - attack.t1489
  - attack.t1562.001
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\sc.exe'
    CommandLine|contains|all: ['stop', 'WinDefend']
  condition: sel
falsepositives:
  - Admins
level: high
`

function compiled(text = RULE) {
  const loaded = loadRuleText(text, 'rules/defender.yml')
  const rule = loaded.rules[0]!
  const c = backend.compile(rule)
  return { rule, query: c.query!, context: c.context! }
}

describe('eql formats', () => {
  test('the target ships default and elastic', () => {
    expect(formatsOf('eql')).toEqual(['default', 'elastic'])
  })

  test('default is the query and a newline', async () => {
    const { rule, query, context } = compiled()
    const out = await renderFormat('eql', { name: 'default' }, { rule: ruleVars(rule), query, target: 'eql', context })
    expect(out).toBe(
      'process where event.type == "start" and process.executable : "*\\\\sc.exe" and process.command_line : "*stop*" and process.command_line : "*WinDefend*"\n',
    )
  })

  test('elastic is one JSON line with the detection-rule fields', async () => {
    const { rule, query, context } = compiled()
    const out = await renderFormat(
      'eql',
      { name: 'elastic' },
      { rule: ruleVars(rule, 3), query, target: 'eql', context },
    )
    expect(out.endsWith('\n')).toBe(true)
    expect(out.trimEnd().split('\n')).toHaveLength(1)
    const doc = JSON.parse(out)
    expect(doc).toMatchObject({
      rule_id: '2a9c6c0e-4f57-4a8e-9f1c-3d2b1a0e9f88',
      name: 'Defender service stopped via "sc"',
      description: 'Detects sc.exe stopping WinDefend.',
      risk_score: 73,
      severity: 'high',
      type: 'eql',
      language: 'eql',
      query,
      index: [
        'logs-endpoint.events.process-*',
        'logs-windows.sysmon_operational-*',
        'logs-system.security-*',
        'winlogbeat-*',
      ],
      author: ['Jane Doe, John Roe'],
      references: ['https://example.org/a'],
      false_positives: ['Admins'],
      version: 3,
      enabled: false,
    })
    // Each technique under the tactic ATT&CK puts it in, with ATT&CK's names (src/formats/attack.ts).
    expect(doc.threat).toEqual([
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0040', name: 'Impact', reference: 'https://attack.mitre.org/tactics/TA0040/' },
        technique: [{ id: 'T1489', name: 'Service Stop', reference: 'https://attack.mitre.org/techniques/T1489/' }],
      },
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0005', name: 'Defense Evasion', reference: 'https://attack.mitre.org/tactics/TA0005/' },
        technique: [
          {
            id: 'T1562',
            name: 'Impair Defenses',
            reference: 'https://attack.mitre.org/techniques/T1562/',
            subtechnique: [
              {
                id: 'T1562.001',
                name: 'Disable or Modify Tools',
                reference: 'https://attack.mitre.org/techniques/T1562/001/',
              },
            ],
          },
        ],
      },
    ])
  })

  test('elastic: level maps to severity and risk score; a missing description falls back to the title', async () => {
    const levels: ReadonlyArray<readonly [string, string, number]> = [
      ['informational', 'low', 21],
      ['low', 'low', 21],
      ['medium', 'medium', 47],
      ['critical', 'critical', 99],
    ]
    for (const [level, severity, risk] of levels) {
      const text = RULE.replace('level: high', `level: ${level}`).replace(
        'description: Detects sc.exe stopping WinDefend.\n',
        '',
      )
      const { rule, query, context } = compiled(text)
      const doc = JSON.parse(
        await renderFormat('eql', { name: 'elastic' }, { rule: ruleVars(rule), query, target: 'eql', context }),
      )
      expect([doc.severity, doc.risk_score, doc.description]).toEqual([
        severity,
        risk,
        'Defender service stopped via "sc"',
      ])
    }
  })

  test('elastic keeps a query with quotes, backslashes and newlines intact', async () => {
    const text = RULE.replace(
      "CommandLine|contains|all: ['stop', 'WinDefend']",
      `CommandLine|contains: "a\\"b\\\\c\\nd"`,
    )
    const { rule, query, context } = compiled(text)
    const doc = JSON.parse(
      await renderFormat('eql', { name: 'elastic' }, { rule: ruleVars(rule), query, target: 'eql', context }),
    )
    expect(doc.query).toBe(query)
    expect(query).toContain('"*a\\"b\\\\c\\nd*"')
  })
})
