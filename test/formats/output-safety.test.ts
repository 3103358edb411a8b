/**
 * Every shipped output format, for any rule metadata, file name and query text: the file reads back
 * (as .conf, YAML, JSON or NDJSON) to exactly one detection with the original text, or the format
 * refuses the rule with an UnsafeTextError. Nothing a rule author writes can add a stanza, a
 * setting, a YAML key, a JSON member or an NDJSON line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import type { TargetId } from '../../src/backends/types.js'
import { confLine, confStanza, UnsafeTextError } from '../../src/formats/escape.js'
import { detectionName } from '../../src/formats/identity.js'
import { formatsOf, renderFormat, ruleVars } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'
import type { Rule } from '../../src/rule/rule.js'
import { parseConf } from '../support/conf.js'

/** Characters that break out of one syntax or another, and a few ordinary ones. */
const HOSTILE = [
  '\n',
  '\r',
  '\r\n',
  '\v',
  '\f',
  '\x1c',
  '\x1d',
  '\x1e',
  '\x85',
  '\u2028',
  '\u2029',
  '\t',
  '\x00',
  '\x1b',
  '\x07',
  '\x7f',
  '\x9b',
  '\ufeff',
  '\ufffe',
  '\\',
  '\\\n',
  '[',
  ']',
  '#',
  '=',
  '"',
  "'",
  '`',
  '```',
  '*/',
  '/*',
  '--',
  '//',
  '{',
  '}',
  ':',
  ': ',
  '- ',
  '|',
  '>',
  '&',
  '*',
  '!',
  '%',
  '@',
  '---',
  '...',
  ' ',
  '  ',
  'é',
  'İ',
  '😀',
  '[default]',
  'search = | delete',
  'a',
  'b',
  'Z',
  '1',
]
const hostile = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2 }) },
    ),
    { maxLength: 12 },
  )
  // A rule file is decoded UTF-8: a lone surrogate cannot reach the formats (it becomes U+FFFD).
  .map((parts) => Buffer.from(parts.join(''), 'utf8').toString('utf8'))

const metadata = fc.record({
  title: hostile,
  id: hostile,
  description: hostile,
  author: hostile,
  license: hostile,
  status: hostile,
  file: hostile.map((s) => `rules/${s}.yml`),
  references: fc.array(hostile, { maxLength: 2 }),
  falsepositives: fc.array(hostile, { maxLength: 2 }),
})

const BASE = `title: Base
id: 5f0c3f9e-1111-4222-8333-944455556666
tags: [attack.impact, attack.t1489]
logsource: { product: windows, category: process_creation }
detection:
  sel:
    Image|endswith: '\\sc.exe'
  condition: sel
level: high
`
const base = loadRuleText(BASE, 'rules/base.yml').rules[0]!

async function artifact(
  target: TargetId,
  format: string,
  m: typeof metadata extends fc.Arbitrary<infer T> ? T : never,
  query?: string,
) {
  const rule: Rule = { ...base, ...m, tags: base.tags }
  const compiled = (await loadBackend(target)).compile(rule)
  expect(compiled.query, JSON.stringify(compiled.diagnostics)).toBeDefined()
  const vars = { rule: ruleVars(rule), query: query ?? compiled.query!, target, context: compiled.context ?? {} }
  try {
    return { text: await renderFormat(target, { name: format }, vars), vars, rule }
  } catch (e) {
    if (e instanceof UnsafeTextError) return { refused: e.message, vars, rule }
    throw e
  }
}

/** Line breaks other than LF that some reader (YAML 1.1, Python's splitlines, editors) splits on. */
const OTHER_BREAKS = /[\r\v\f\x1c-\x1e\x85\u2028\u2029]/
const RUNS = { numRuns: 150, seed: 20261203 }
const queryText = fc.option(hostile, { nil: undefined })

describe('output formats read back to one detection with the original text', () => {
  it('ships the formats this test covers', () => {
    expect(Object.fromEntries((['spl', 'kql', 'eql', 'osquery'] as const).map((t) => [t, formatsOf(t)]))).toEqual({
      spl: ['default', 'savedsearches', 'savedsearches-core'],
      kql: ['arm', 'default', 'defender', 'sentinel'],
      eql: ['default', 'elastic'],
      osquery: ['default', 'fleet', 'pack'],
    })
  })

  it('default (the bare query) is the query text and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, hostile, async (m, q) => {
        for (const t of ['spl', 'kql', 'eql', 'osquery'] as const) {
          const a = await artifact(t, 'default', m, q)
          expect(a.text).toBe(q + '\n')
        }
      }),
      RUNS,
    )
  })

  it('savedsearches.conf: one stanza, the fixed settings, the exact search and metadata; or a refusal', async () => {
    const SETTINGS = [
      'description',
      'search',
      'disabled',
      'enableSched',
      'cron_schedule',
      'dispatch.earliest_time',
      'dispatch.latest_time',
      'counttype',
      'relation',
      'quantity',
      'alert.track',
      'alert.severity',
      'action.correlationsearch.enabled',
      'action.correlationsearch.label',
      'action.correlationsearch.annotations',
      'action.correlationsearch.metadata',
      'action.notable',
      'action.notable.param.rule_title',
      'action.notable.param.rule_description',
      'action.notable.param.severity',
    ]
    let refused = 0
    await fc.assert(
      fc.asyncProperty(metadata, queryText, async (m, q) => {
        const a = await artifact('spl', 'savedsearches', m, q)
        if (a.refused !== undefined) {
          // Only the exact-value settings refuse, and only for text that cannot be one .conf line.
          refused++
          expect(q).toBeDefined()
          expect(/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|\\$|^\s|\s$/.test(q!)).toBe(true)
          return
        }
        const text = a.text!
        expect(text).not.toMatch(OTHER_BREAKS)
        const conf = parseConf(text)
        expect(conf.errors).toEqual([])
        expect(conf.stanzas).toHaveLength(1)
        const s = conf.stanzas[0]!
        expect(s.name).toBe(confStanza(`Sigma - ${m.title}`))
        expect(s.name).toBe(detectionName('spl', 'savedsearches', a.vars))
        expect(s.repeated).toEqual([])
        expect([...s.settings.keys()]).toEqual(SETTINGS)
        expect(s.settings.get('search')).toBe(a.vars.query)
        expect(s.settings.get('description')).toBe(confLine(m.description || m.title))
        expect(s.settings.get('action.notable.param.rule_title')).toBe(s.name)
        expect(JSON.parse(s.settings.get('action.correlationsearch.metadata')!)).toEqual({
          sigma_id: m.id,
          sigma_title: m.title,
          sigma_author: m.author,
          sigma_license: m.license,
          sigma_file: m.file,
          sigma_status: m.status,
          detection_version: 1,
        })
        expect(conf.comments[0]).toBe(confLine(m.title))
      }),
      RUNS,
    )
    expect(refused).toBeGreaterThan(0)
  })

  it('savedsearches.conf for core Splunk: one stanza, no ES alert action, the exact search; or a refusal', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, queryText, async (m, q) => {
        const a = await artifact('spl', 'savedsearches-core', m, q)
        if (a.refused !== undefined) {
          expect(/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|\\$|^\s|\s$/.test(q!)).toBe(true)
          return
        }
        const conf = parseConf(a.text!)
        expect(conf.errors).toEqual([])
        expect(conf.stanzas).toHaveLength(1)
        const s = conf.stanzas[0]!
        expect(s.name).toBe(detectionName('spl', 'savedsearches-core', a.vars))
        expect(s.repeated).toEqual([])
        expect([...s.settings.keys()].filter((k) => k.startsWith('action.'))).toEqual([])
        expect(s.settings.get('search')).toBe(a.vars.query)
        expect(s.settings.get('alert.track')).toBe('1')
      }),
      RUNS,
    )
  })

  it('sentinel (YAML): one mapping with the exact id, name, description and query', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, queryText, async (m, q) => {
        const a = await artifact('kql', 'sentinel', m, q)
        expect(a.text).not.toMatch(OTHER_BREAKS)
        const docs = yaml.loadAll(a.text!) as Record<string, unknown>[]
        expect(docs).toHaveLength(1)
        expect(docs[0]).toMatchObject({ id: m.id, name: m.title, description: m.description, query: a.vars.query })
        expect(docs[0]!['kind']).toBe('Scheduled')
      }),
      RUNS,
    )
  })

  it('fleet (YAML): a list of one query with the exact description and query', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, queryText, async (m, q) => {
        const a = await artifact('osquery', 'fleet', m, q)
        expect(a.text).not.toMatch(OTHER_BREAKS)
        const docs = yaml.loadAll(a.text!) as unknown[]
        expect(docs).toHaveLength(1)
        const list = docs[0] as Record<string, unknown>[]
        expect(list).toHaveLength(1)
        expect(list[0]).toMatchObject({ description: m.description || m.title, query: a.vars.query })
      }),
      RUNS,
    )
  })

  it('defender and pack (JSON): one object with the exact text', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, queryText, async (m, q) => {
        const d = await artifact('kql', 'defender', m, q)
        expect(d.text).not.toMatch(OTHER_BREAKS)
        const rule = JSON.parse(d.text!)
        expect(rule.displayName).toBe(m.title)
        expect(rule.queryCondition.queryText).toBe(d.vars.query)
        expect(rule.detectionAction.alertTemplate).toMatchObject({ title: m.title, description: m.description })
        const p = await artifact('osquery', 'pack', m, q)
        const pack = JSON.parse(p.text!)
        const queries = Object.values(pack.queries) as Record<string, unknown>[]
        expect(queries).toHaveLength(1)
        expect(queries[0]).toMatchObject({ query: p.vars.query, description: m.description || m.title })
      }),
      RUNS,
    )
  })

  it('arm (JSON template): one alert rule with the exact text, no string read as an ARM expression', async () => {
    const ARM_EXPRESSION = /^\[(?!\[)/
    let refused = 0
    await fc.assert(
      fc.asyncProperty(metadata, fc.option(fc.uuid(), { nil: undefined }), queryText, async (m, uuid, q) => {
        const a = await artifact('kql', 'arm', uuid ? { ...m, id: uuid } : m, q)
        if (a.refused !== undefined) {
          refused++
          expect(uuid).toBeUndefined()
          return
        }
        expect(a.text).not.toMatch(OTHER_BREAKS)
        const template = JSON.parse(a.text!)
        expect(template.resources).toHaveLength(1)
        const props = template.resources[0].properties
        // What ARM deploys: a leading `[[` loses one bracket; a single leading `[` would be evaluated.
        const deployed = (v: string) => {
          expect(v).not.toMatch(ARM_EXPRESSION)
          return v.startsWith('[[') ? v.slice(1) : v
        }
        expect(deployed(props.displayName)).toBe(m.title)
        expect(deployed(props.description)).toBe(m.description || m.title)
        expect(deployed(props.query)).toBe(a.vars.query)
        expect(template.resources[0].name).toBe(
          `[concat(parameters('workspace'), '/Microsoft.SecurityInsights/${uuid}')]`,
        )
      }),
      RUNS,
    )
    expect(refused).toBeGreaterThan(0)
  })

  it('elastic (NDJSON): exactly one line, one rule with the exact text', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, queryText, async (m, q) => {
        const a = await artifact('eql', 'elastic', m, q)
        expect(a.text).not.toMatch(OTHER_BREAKS)
        const lines = a.text!.split('\n').filter((l) => l !== '')
        expect(lines).toHaveLength(1)
        const rule = JSON.parse(lines[0]!)
        expect(rule.license).toBe(m.license || undefined)
        expect(rule).toMatchObject({
          rule_id: m.id || m.file,
          name: m.title,
          description: m.description || m.title,
          query: a.vars.query,
          author: m.author ? [m.author] : [],
          references: m.references,
          false_positives: m.falsepositives,
        })
      }),
      RUNS,
    )
  })
})

describe('template helpers take text', () => {
  it('write a list as handlebars does and refuse a mapping (never "[object Object]")', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-template-'))
    try {
      const file = join(dir, 'mine.hbs')
      writeFileSync(file, '{{oneline rule.tags}} {{oneline rule.version}}')
      const vars = { rule: ruleVars(base), query: 'q', target: 'spl', context: {} }
      expect(await renderFormat('spl', { file }, vars)).toBe('attack.impact,attack.t1489 1')
      writeFileSync(join(dir, 'mapping.hbs'), '{{oneline rule.attack}}')
      await expect(renderFormat('spl', { file: join(dir, 'mapping.hbs') }, vars)).rejects.toThrow(
        new UnsafeTextError('a template wrote a mapping where text goes'),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
