import { describe, expect, it } from 'vitest'
import yaml from 'js-yaml'
import { backend } from '../../src/backends/osquery.js'
import { formatsOf, renderFormat, ruleVars } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'

const text = `title: Service Stopped Via "Sc.EXE" 'quoted'
id: 6c6e382e-599f-48e5-b691-3ea9d2ac9d1d
description: |
  Detects sc.exe stopping a service.
  Second line with a backslash \\ and "quotes".
tags: [attack.impact, attack.t1489]
logsource: { product: windows, category: process_creation }
detection:
  sel:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: "it's stop"
  condition: sel
level: low
`
const rule = loadRuleText(text, 'sc.yml').rules[0]!
const compiled = backend.compile(rule)
const vars = { rule: ruleVars(rule), query: compiled.query!, target: 'osquery', context: compiled.context! }

describe('osquery formats', () => {
  it('ships default, pack and fleet', () => {
    expect(formatsOf('osquery')).toEqual(['default', 'fleet', 'pack'])
  })

  it('default is the query alone', async () => {
    expect(await renderFormat('osquery', { name: 'default' }, vars)).toBe(`${compiled.query}\n`)
  })

  it('pack is an osquery pack: one query with interval, platform, description, value, snapshot/removed', async () => {
    const pack = JSON.parse(await renderFormat('osquery', { name: 'pack' }, vars))
    expect(pack).toEqual({
      platform: 'windows',
      queries: {
        service_stopped_via_sc_exe_quoted: {
          query: compiled.query,
          interval: 60,
          platform: 'windows',
          description: 'Detects sc.exe stopping a service.\nSecond line with a backslash \\ and "quotes".\n',
          value:
            'Sigma rule 6c6e382e-599f-48e5-b691-3ea9d2ac9d1d "Service Stopped Via "Sc.EXE" \'quoted\'"; level low; ATT&CK T1489',
          snapshot: false,
          removed: false,
        },
      },
    })
  })

  it('fleet is a Fleet GitOps query list', async () => {
    const doc = yaml.load(await renderFormat('osquery', { name: 'fleet' }, vars))
    expect(doc).toEqual([
      {
        name: 'service_stopped_via_sc_exe_quoted',
        description: 'Detects sc.exe stopping a service.\nSecond line with a backslash \\ and "quotes".\n',
        query: compiled.query,
        interval: 60,
        platform: 'windows',
        observer_can_run: false,
        automations_enabled: true,
        logging: 'differential_ignore_removals',
      },
    ])
  })

  it('a state table (services) reports removals, and falls back to the title without a description', async () => {
    const r = loadRuleText(
      `title: Defender stopped\nlogsource: { product: windows, category: service_state }\ndetection:\n  sel:\n    ServiceName: WinDefend\n    Status: STOPPED\n  condition: sel\n`,
      's.yml',
    ).rules[0]!
    const c = backend.compile(r)
    const v = { rule: ruleVars(r), query: c.query!, target: 'osquery', context: c.context! }
    const q = JSON.parse(await renderFormat('osquery', { name: 'pack' }, v)).queries.defender_stopped
    expect(q).toMatchObject({ interval: 3600, removed: true, snapshot: false, description: 'Defender stopped' })
    expect((yaml.load(await renderFormat('osquery', { name: 'fleet' }, v)) as { logging: string }[])[0]!.logging).toBe(
      'differential',
    )
  })
})
