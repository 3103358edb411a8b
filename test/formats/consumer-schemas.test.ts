/**
 * The consumers' schemas and validation rules (src/formats/consumers/, issue 20), run on a
 * generated set covering every current ATT&CK technique of the release with its tactics, and shown
 * to fail on what each consumer rejects. The shipped pack is checked where the bundle test builds it
 * (test/cli/guidance.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { ATTACK_TECHNIQUES } from '../../src/formats/attack-data.generated.js'
import { checkDefenderRule } from '../../src/formats/consumers/defender.js'
import { checkElasticRule } from '../../src/formats/consumers/elastic.js'
import { checkSentinelArm, checkSentinelYaml } from '../../src/formats/consumers/sentinel.js'
import { checkSavedSearches } from '../../src/formats/consumers/splunk.js'
import { renderFormat, ruleVars } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'
import { ruleText } from '../hostile/helpers.js'

const CHECKS = [
  ['kql', 'sentinel', checkSentinelYaml],
  ['kql', 'arm', checkSentinelArm],
  ['kql', 'defender', checkDefenderRule],
  ['eql', 'elastic', checkElasticRule],
  ['spl', 'savedsearches', (t: string) => checkSavedSearches(t, 'es')],
] as const

/** Target facts as the backends give them for a Windows process rule. */
const CONTEXT: Record<string, Record<string, unknown>> = {
  kql: { table: 'SecurityEvent', entity: 'Computer', entityIdentifier: 'deviceId', hostColumn: 'Computer' },
  eql: { index: ['logs-endpoint.events.process-*'] },
  spl: { logsource: 'windows-process-creation', schedule: {} },
}
const QUERY: Record<string, string> = {
  kql: 'SecurityEvent | where EventID == 4688',
  eql: 'process where process.name == "sc.exe"',
  spl: 'sourcetype="WinEventLog" EventCode=4688',
}

async function violations(tags: string[]): Promise<string[]> {
  const rule = loadRuleText(ruleText() + `tags: [${tags.join(', ')}]\n`, 'rules/gen.yml').rules[0]!
  const out: string[] = []
  for (const [target, format, check] of CHECKS) {
    const text = await renderFormat(
      target,
      { name: format },
      { rule: ruleVars(rule), query: QUERY[target]!, target, context: CONTEXT[target]! },
    )
    for (const v of check(text)) out.push(`${target}/${format} ${tags.join(' ')}: ${v.path} ${v.message}`)
  }
  return out
}

describe('consumer schemas', () => {
  it('every current technique of the release with its tactics, and newer or unknown ones, pass every consumer', async () => {
    const found: string[] = []
    const ids = Object.entries(ATTACK_TECHNIQUES).filter(([, row]) => row[2] === '')
    expect(ids.length).toBeGreaterThan(600)
    // Forty techniques a rule, each with its tactics: every technique is written somewhere.
    for (let i = 0; i < ids.length; i += 40) {
      const chunk = ids.slice(i, i + 40)
      const tactics = new Set(chunk.flatMap(([, row]) => row[1].split(',').map((t) => `attack.${t}`)))
      found.push(...(await violations([...chunk.map(([id]) => `attack.${id.toLowerCase()}`), ...tactics])))
    }
    // v19 names and ids, revoked and unknown techniques are written as their parents or left out.
    for (const tags of [
      ['attack.stealth', 'attack.t1685.004'],
      ['attack.defense-impairment', 'attack.t1685.001', 'attack.t1002', 'attack.t9999'],
      ['attack.execution', 'attack.t1620'],
    ])
      found.push(...(await violations(tags)))
    expect(found).toEqual([])
  })

  it('sentinel: a tactic spelt wrong, a technique without its tactic, an unknown connector fail', () => {
    const good = `id: 2a9c6c0e-4f57-4a8e-9f1c-3d2b1a0e9f88
name: n
description: d
severity: Medium
requiredDataConnectors: [{ connectorId: SecurityEvents, dataTypes: [SecurityEvent] }]
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics: [Persistence, InitialAccess, PrivilegeEscalation, DefenseEvasion]
relevantTechniques: [T1078.002]
query: SecurityEvent
entityMappings: [{ entityType: Host, fieldMappings: [{ identifier: HostName, columnName: Computer }] }]
version: 1.0.0
kind: Scheduled
`
    expect(checkSentinelYaml(good)).toEqual([])
    const bad = (from: string, to: string) => checkSentinelYaml(good.replace(from, to)).map((v) => v.message)
    expect(bad('DefenseEvasion]', 'CommandandControl]')).toContainEqual(expect.stringContaining('allowed values'))
    expect(bad('InitialAccess, ', '')).toEqual([
      'No valid tactic corresponding to the technique T1078.002 was provided in the tactics field',
    ])
    expect(bad('SecurityEvents,', 'SecurityEvent,')).toHaveLength(1)
    expect(bad('queryPeriod: 1h', 'queryPeriod: 30m')).toEqual(['must be at least queryFrequency'])
    expect(bad('query: SecurityEvent', `query: ${'x'.repeat(10001)}`)).toHaveLength(1)
    expect(bad('identifier: HostName', 'identifier: Address')).toHaveLength(2)
  })

  it('elastic: a technique named by its id, under the wrong tactic, or an empty tactic id fails', () => {
    const rule = (threat: unknown) =>
      JSON.stringify({
        rule_id: '2a9c6c0e-4f57-4a8e-9f1c-3d2b1a0e9f88',
        author: [],
        description: 'd',
        language: 'eql',
        severity: 'low',
        type: 'eql',
        threat,
      })
    const impact = { id: 'TA0040', name: 'Impact', reference: 'https://attack.mitre.org/tactics/TA0040/' }
    const stop = { id: 'T1489', name: 'Service Stop', reference: 'https://attack.mitre.org/techniques/T1489/' }
    expect(checkElasticRule(rule([{ framework: 'MITRE ATT&CK', tactic: impact, technique: [stop] }]))).toEqual([])
    expect(
      checkElasticRule(rule([{ framework: 'MITRE ATT&CK', tactic: impact, technique: [{ ...stop, name: 'T1489' }] }])),
    ).toHaveLength(1)
    const discovery = { id: 'TA0007', name: 'Discovery', reference: 'https://attack.mitre.org/tactics/TA0007/' }
    expect(checkElasticRule(rule([{ framework: 'MITRE ATT&CK', tactic: discovery, technique: [stop] }]))).toHaveLength(
      1,
    )
    expect(
      checkElasticRule(
        rule([
          { framework: 'MITRE ATT&CK', tactic: { ...impact, id: '', reference: 'https://attack.mitre.org/tactics//' } },
        ]),
      ),
    ).not.toEqual([])
    expect(checkElasticRule(rule([]).replace('"type"', '"license":"","type"'))).toEqual([])
    expect(checkElasticRule(rule([]).replace('"type"', '"bogus":1,"type"'))).toHaveLength(1)
  })

  it('defender: a category that is not one of its categories, or a schedule it has not, fails', () => {
    const body = {
      displayName: 'x',
      isEnabled: false,
      queryCondition: { queryText: 'DeviceProcessEvents' },
      schedule: { period: '1H' },
      detectionAction: {
        alertTemplate: {
          title: 'x',
          description: 'd',
          severity: 'medium',
          category: 'CommandAndControl',
          recommendedActions: null,
          mitreTechniques: ['T1071.001'],
          impactedAssets: [{ '@odata.type': '#microsoft.graph.security.impactedDeviceAsset', identifier: 'deviceId' }],
        },
        organizationalScope: null,
        responseActions: [],
      },
    }
    expect(checkDefenderRule(JSON.stringify(body))).toEqual([])
    const category = JSON.stringify(body).replace('CommandAndControl', 'CommandandControl')
    expect(checkDefenderRule(category)).toHaveLength(1)
    expect(checkDefenderRule(JSON.stringify(body).replace('"1H"', '"2H"'))).toHaveLength(1)
  })

  it('splunk: ES-only alert actions fail core Splunk; a bad cron or a stanza twice fails both', () => {
    const es = `[Sigma - x]\nsearch = index=a\nenableSched = 1\ncron_schedule = */10 * * * *\nalert.track = 1\naction.correlationsearch.enabled = 1\naction.notable = 1\n`
    expect(checkSavedSearches(es, 'es')).toEqual([])
    expect(checkSavedSearches(es, 'core').map((v) => v.message)).toEqual([
      "action.correlationsearch.enabled: alert action 'correlationsearch' does not exist in core Splunk",
      "action.notable: alert action 'notable' does not exist in core Splunk",
    ])
    expect(checkSavedSearches(es.replace('*/10', '*/10 *'), 'es')).toHaveLength(1)
    expect(checkSavedSearches(es + es, 'es').map((v) => v.message)).toContain(
      'stanza [Sigma - x] twice (the later one wins)',
    )
  })
})

describe('sentinel requiredDataConnectors', () => {
  it('every connector id the table names is one Sentinel validation accepts, and a cloud table gets its connector', async () => {
    const { SENTINEL_CONNECTORS, requiredDataConnectors } = await import('../../src/formats/sentinel-connectors.js')
    // The checker owns its id list; a table row naming an id outside it makes the template fail.
    for (const [table, ids] of Object.entries(SENTINEL_CONNECTORS))
      for (const id of ids) {
        const yaml = `id: 2a9c6c0e-4f57-4a8e-9f1c-3d2b1a0e9f88
name: n
description: d
severity: Medium
requiredDataConnectors: [{ connectorId: ${id}, dataTypes: [${table}] }]
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics: [Impact]
relevantTechniques: [T1489]
query: ${table}
version: 1.0.0
kind: Scheduled
`
        expect(checkSentinelYaml(yaml), `${table} → ${id}`).toEqual([])
      }
    expect(requiredDataConnectors(['AWSCloudTrail'])).toEqual([{ connectorId: 'AWS', dataTypes: ['AWSCloudTrail'] }])
    expect(requiredDataConnectors(['SigninLogs', 'AuditLogs'])).toEqual([
      { connectorId: 'AzureActiveDirectory', dataTypes: ['SigninLogs', 'AuditLogs'] },
    ])
    for (const [table, id] of [
      ['AzureActivity', 'AzureActivity'],
      ['OfficeActivity', 'Office365'],
      ['Okta_CL', 'OktaSSO'],
      ['AKSAudit', 'AzureKubernetes'],
      ['DeviceProcessEvents', 'MicrosoftThreatProtection'],
    ])
      expect(requiredDataConnectors([table!])).toEqual([{ connectorId: id, dataTypes: [table] }])
  })

  it('every table the sentinel family emits has a row; the rows left empty are those whose connector id the validation lacks', async () => {
    const { SENTINEL_CONNECTORS } = await import('../../src/formats/sentinel-connectors.js')
    const { load } = await import('js-yaml')
    const { readFileSync } = await import('node:fs')
    const schema = load(readFileSync(new URL('../../targets/kql/schema/sentinel.yml', import.meta.url), 'utf8')) as {
      tables: Record<string, unknown>
    }
    expect(Object.keys(schema.tables).filter((t) => !(t in SENTINEL_CONNECTORS))).toEqual([])
    // A combined run puts Defender's tables into Sentinel output too.
    const defender = load(readFileSync(new URL('../../targets/kql/schema/defender.yml', import.meta.url), 'utf8')) as {
      tables: Record<string, unknown>
    }
    expect(Object.keys(defender.tables).filter((t) => !SENTINEL_CONNECTORS[t]?.length)).toEqual([])
    // The connector definitions name these ids; the stored ValidConnectorIds.json does not have
    // them, so a template listing one fails. When the list is updated this fails: fill the row.
    for (const [table, id] of [
      ['WindowsEvent', 'WindowsForwardedEvents'],
      ['GCPAuditLogs', 'GCPAuditLogsDefinition'],
      ['GitHubAuditLogPolling_CL', 'GitHubEcAuditLogPolling'],
      ['Corelight_v3_dns_CL', 'CorelightConnectorExporter'],
    ]) {
      expect(SENTINEL_CONNECTORS[table!]).toEqual([])
      const yaml = `id: 2a9c6c0e-4f57-4a8e-9f1c-3d2b1a0e9f88
name: n
description: d
severity: Medium
requiredDataConnectors: [{ connectorId: ${id}, dataTypes: [${table}] }]
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
query: ${table}
kind: Scheduled
`
      expect(checkSentinelYaml(yaml).map((v) => v.path)).toEqual(['/requiredDataConnectors/0/connectorId'])
    }
  })
})
