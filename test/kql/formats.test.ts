/** The kql formats: default, sentinel (analytics rule YAML) and defender (Graph custom detection JSON). */
import { describe, expect, test } from 'vitest'
import yaml from 'js-yaml'
import { backend } from '../../src/backends/kql.js'
import { checkKql } from '../../src/verify/kql-parser.js'
import { renderFormat, ruleVars, formatsOf } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'
import type { Rule } from '../../src/rule/rule.js'

const SIGMA = `
title: Service stopped with "sc.exe" \\ net
id: 8f3a4d1e-2b7c-4e5f-9a01-b2c3d4e5f607
status: test
description: |
  Stops a service: 'quotes', "double", a backslash \\ and a colon: here.
author: rulesmith
date: 2026-11-27
tags:
  - attack.impact
  - attack.t1489
  - attack.defense-evasion
  - attack.t1562.001
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: ' stop '
  condition: selection
level: high
`

function load(text: string): Rule {
  const loaded = loadRuleText(text, 'rules/sc-stop.yml')
  expect(loaded.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return loaded.rules[0]!
}

async function render(format: string, variant: string) {
  const r = load(SIGMA)
  const c = backend.compile(r, { variant })
  expect(c.query).toBeDefined()
  return {
    query: c.query!,
    text: await renderFormat(
      'kql',
      { name: format },
      { rule: ruleVars(r), query: c.query!, target: 'kql', context: c.context ?? {} },
    ),
  }
}

describe('kql formats', () => {
  test('the target ships default, sentinel, arm and defender', () => {
    expect(formatsOf('kql')).toEqual(['arm', 'default', 'defender', 'sentinel'])
  })
  test('default is the query', async () => {
    const { query, text } = await render('default', 'defender')
    expect(text.trimEnd()).toBe(query)
    expect(query).toBe('DeviceProcessEvents\n| where FileName =~ "sc.exe" and ProcessCommandLine contains " stop "')
  })
  test('sentinel: a scheduled analytics rule YAML whose query parses back byte for byte', async () => {
    for (const variant of ['sentinel', 'defender']) {
      const { query, text } = await render('sentinel', variant)
      const doc = yaml.load(text) as Record<string, unknown>
      expect(doc).toMatchObject({
        id: '8f3a4d1e-2b7c-4e5f-9a01-b2c3d4e5f607',
        name: 'Service stopped with "sc.exe" \\ net',
        severity: 'High',
        queryFrequency: '1h',
        queryPeriod: '1h',
        triggerOperator: 'gt',
        triggerThreshold: 0,
        tactics: ['Impact', 'DefenseEvasion'],
        relevantTechniques: ['T1489', 'T1562.001'],
        version: '1.0.0',
        kind: 'Scheduled',
      })
      expect(doc.description).toContain(`'quotes', "double", a backslash \\ and a colon: here.`)
      expect(doc.query).toBe(query)
      expect(await checkKql(doc.query as string, variant)).toEqual([])
      const mapping = (doc.entityMappings as Array<{ fieldMappings: Array<{ columnName: string }> }>)[0]!
        .fieldMappings[0]!.columnName
      expect(mapping).toBe(variant === 'sentinel' ? 'Computer' : 'DeviceName')
    }
  })
  test('sentinel and arm: the Host entity maps a column the table has, and a table without one gets no mapping', async () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['product: aws\n  service: cloudtrail', 'eventName: PutBucketPolicy', undefined],
      ['category: process_creation\n  product: windows', "CommandLine|contains: ' stop '", 'DvcHostname'],
    ]
    for (const [logsource, selection, column] of cases) {
      const r = load(
        SIGMA.replace('category: process_creation\n  product: windows', logsource).replace(
          /selection:\n[\s\S]*?condition/,
          `selection:\n    ${selection}\n  condition`,
        ),
      )
      const variant = column === undefined ? 'sentinel' : 'asim'
      const c = backend.compile(r, { variant })
      expect(c.query, JSON.stringify(c.diagnostics)).toBeDefined()
      const vars = { rule: ruleVars(r), query: c.query!, target: 'kql', context: c.context ?? {} }
      const doc = yaml.load(await renderFormat('kql', { name: 'sentinel' }, vars)) as Record<string, unknown>
      const arm = JSON.parse(await renderFormat('kql', { name: 'arm' }, vars)) as {
        resources: Array<{ properties?: Record<string, unknown> }>
      }
      const armRule = arm.resources.find((x) => x.properties?.['query'] !== undefined)!.properties!
      if (column === undefined) {
        expect(doc.entityMappings).toBeUndefined()
        expect(armRule['entityMappings']).toBeUndefined()
      } else {
        expect(JSON.stringify(doc.entityMappings)).toContain(`"columnName":"${column}"`)
        expect(JSON.stringify(armRule['entityMappings'])).toContain(`"columnName":"${column}"`)
      }
    }
  })
  test('defender: a Graph custom detection body; its query keeps Timestamp, ReportId and DeviceId', async () => {
    const { query, text } = await render('defender', 'defender')
    const body = JSON.parse(text) as {
      displayName: string
      queryCondition: { queryText: string }
      schedule: { period: string }
      detectionAction: { alertTemplate: { impactedAssets: unknown[] } }
    }
    expect(body.displayName).toBe('Service stopped with "sc.exe" \\ net')
    expect(body.queryCondition.queryText).toBe(query)
    expect(body.schedule.period).toBe('1H')
    expect(body.detectionAction.alertTemplate).toMatchObject({
      severity: 'high',
      category: 'Impact',
      mitreTechniques: ['T1489', 'T1562.001'],
    })
    expect(body.detectionAction.alertTemplate.impactedAssets[0]).toEqual({
      '@odata.type': '#microsoft.graph.security.impactedDeviceAsset',
      identifier: 'deviceId',
    })
    // No projection drops a column, and the table has the three columns Defender requires.
    expect(query).not.toMatch(/\| *project/)
    expect(await checkKql(`${query}\n| project Timestamp, ReportId, DeviceId`, 'defender')).toEqual([])
    for (const table of [
      'DeviceProcessEvents',
      'DeviceFileEvents',
      'DeviceRegistryEvents',
      'DeviceImageLoadEvents',
      'DeviceNetworkEvents',
      'DeviceEvents',
    ]) {
      expect(await checkKql(`${table}\n| project Timestamp, ReportId, DeviceId`, 'defender'), table).toEqual([])
    }
  })
  test('a multi-line query with a quote-heavy value survives the YAML block scalar', async () => {
    const r = load(SIGMA.replace("' stop '", '\'"a" \\\\b: #c\''))
    const c = backend.compile(r, { variant: 'sentinel' })
    const text = await renderFormat(
      'kql',
      { name: 'sentinel' },
      { rule: ruleVars(r), query: c.query!, target: 'kql', context: c.context ?? {} },
    )
    expect((yaml.load(text) as { query: string }).query).toBe(c.query)
  })
  test('arm: one disabled Scheduled alertRules resource on Sentinel tables, parent techniques, the exact query', async () => {
    const { query, text } = await render('arm', 'sentinel')
    const template = JSON.parse(text)
    expect(template.$schema).toBe('https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#')
    expect(template.resources).toHaveLength(1)
    const [resource] = template.resources
    expect(resource).toMatchObject({
      type: 'Microsoft.OperationalInsights/workspaces/providers/alertRules',
      kind: 'Scheduled',
      name: "[concat(parameters('workspace'), '/Microsoft.SecurityInsights/8f3a4d1e-2b7c-4e5f-9a01-b2c3d4e5f607')]",
    })
    expect(resource.properties).toMatchObject({
      displayName: 'Service stopped with "sc.exe" \\ net',
      enabled: false,
      query,
      severity: 'High',
      tactics: ['Impact', 'DefenseEvasion'],
      techniques: ['T1489', 'T1562'],
      triggerOperator: 'GreaterThan',
    })
    expect(query.startsWith('SecurityEvent')).toBe(true)
  })
})
