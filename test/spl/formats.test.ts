/** The spl output formats: the bare query, and a savedsearches.conf stanza per rule. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/spl.js'
import { renderFormat, ruleVars, formatsOf } from '../../src/formats/render.js'
import type { Rule } from '../../src/rule/rule.js'
import { sigma } from './helpers.js'

const RULE = `title: Service stop [via sc.exe]
id: 3a7f1b0e-6c6d-4c39-9d3b-0d1f6f1c2a10
status: test
description: |
  Detects sc.exe stopping a service.
  Second line ending in a backslash \\
author: A. Author, B. Author
license: DRL-1.1
date: 2026-11-27
tags:
  - attack.impact
  - attack.t1489
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: ' stop '
  condition: sel
level: high
`

async function render(rule: Rule, name: string): Promise<{ text: string; query: string }> {
  const c = backend.compile(rule)
  expect(c.query).toBeDefined()
  const text = await renderFormat(
    'spl',
    { name },
    { rule: ruleVars(rule), query: c.query!, target: 'spl', context: c.context ?? {} },
  )
  return { text, query: c.query! }
}

/** A small reader of .conf files: `[stanza]`, `key = value`, `#` comments, no line continuations allowed. */
function parseConf(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>()
  let current: Map<string, string> | undefined
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    expect(line.endsWith('\\'), `line continues: ${line}`).toBe(false)
    const stanza = /^\[([^\]]+)\]$/.exec(line)
    if (stanza) {
      current = new Map()
      out.set(stanza[1]!, current)
      continue
    }
    const kv = /^([^=]+?) = (.*)$/.exec(line)
    expect(kv, line).not.toBeNull()
    expect(current).toBeDefined()
    current!.set(kv![1]!, kv![2]!)
  }
  return out
}

describe('spl formats', () => {
  it('ships default, savedsearches (ES) and savedsearches-core', () => {
    expect(formatsOf('spl')).toEqual(['default', 'savedsearches', 'savedsearches-core'])
  })
  it('default is the query itself', async () => {
    const { text, query } = await render(sigma(RULE), 'default')
    expect(text).toBe(query + '\n')
  })
  it('savedsearches is one valid stanza with schedule, severity, ATT&CK and attribution', async () => {
    const { text, query } = await render(sigma(RULE), 'savedsearches')
    const conf = parseConf(text)
    expect([...conf.keys()]).toEqual(['Sigma - Service stop via sc.exe'])
    const s = conf.get('Sigma - Service stop via sc.exe')!
    expect(s.get('search')).toBe(query)
    expect(s.get('description')).toBe('Detects sc.exe stopping a service. Second line ending in a backslash')
    expect(s.get('cron_schedule')).toBe('*/10 * * * *')
    expect(s.get('dispatch.earliest_time')).toBe('-10m@m')
    expect(s.get('dispatch.latest_time')).toBe('now')
    expect(s.get('alert.severity')).toBe('5')
    expect(s.get('action.notable.param.severity')).toBe('high')
    expect(JSON.parse(s.get('action.correlationsearch.annotations')!)).toEqual({
      mitre_attack: ['T1489'],
      mitre_tactics: ['Impact'],
    })
    expect(JSON.parse(s.get('action.correlationsearch.metadata')!)).toEqual({
      sigma_id: '3a7f1b0e-6c6d-4c39-9d3b-0d1f6f1c2a10',
      sigma_title: 'Service stop [via sc.exe]',
      sigma_author: 'A. Author, B. Author',
      sigma_license: 'DRL-1.1',
      sigma_file: 'rules/test.yml',
      sigma_status: 'test',
      detection_version: 1,
    })
    expect(text).toContain(
      '# Sigma rule 3a7f1b0e-6c6d-4c39-9d3b-0d1f6f1c2a10 (rules/test.yml) by A. Author, B. Author, license DRL-1.1',
    )
  })
  it('severity follows the level', async () => {
    for (const [level, sev] of [
      ['informational', '2'],
      ['low', '3'],
      ['medium', '4'],
      ['critical', '6'],
    ]) {
      const { text } = await render(sigma(RULE.replace('level: high', `level: ${level}`)), 'savedsearches')
      expect(text).toContain(`\nalert.severity = ${sev}\n`)
    }
  })
  it("a template's own helpers and the presentation values reach it however it reads them", async () => {
    // renderFormat gives a template only the helpers its text names, and the presentation values
    // (savedsearch: stanza, severity …) only when it can read `context`: every way of reading them.
    const rule = sigma(RULE)
    const c = backend.compile(rule)
    const vars = { rule: ruleVars(rule), query: c.query!, target: 'spl', context: c.context ?? {} }
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-spl-template-'))
    const cases: Array<[string, string]> = [
      ['{{context.savedsearch.stanza}}', 'Sigma - Service stop [via sc.exe]'],
      ['{{#with context}}{{savedsearch.severity}}{{/with}}', '5'],
      ['{{lookup context.savedsearch "severity"}}', '5'],
      ['{{#each context.savedsearch.mitreAttack}}{{this}}{{/each}}', 'T1489'],
      ['{{@root.context.savedsearch.severity}}', '5'],
      ['{{json this.context.savedsearch.mitreTactics}}', '["Impact"]'],
      ['{{eq context.savedsearch.severity 5}} {{rule.title}}', 'true Service stop [via sc.exe]'],
      ['{{rule.level}}: {{{query}}}', `high: ${c.query!}`],
    ]
    for (const [i, [template, expected]] of cases.entries()) {
      const file = join(dir, `t${i}.hbs`)
      writeFileSync(file, template)
      expect(await renderFormat('spl', { file }, vars)).toBe(expected)
    }
  })
})
