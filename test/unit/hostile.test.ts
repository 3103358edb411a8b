/**
 * Hostile input never ends in an exception: random text and random rule-shaped documents load
 * into rules or diagnostics (each with a file and a position), and whatever loads compiles to
 * every target or is refused with a diagnostic.
 */
import fc from 'fast-check'
import yaml from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { loadRuleText } from '../../src/rule/load.js'
import { loadBackend } from '../../src/backends/index.js'
import { TARGET_IDS } from '../../src/backends/types.js'
import { isDiagnosticCode } from '../../src/diagnostics/codes.js'

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('*', '?', '\\', '\\*', 'a*b?c', '%x%', '10.0.0.0/8', '', ' ', 'é', '😀', "'", '"'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
)
const key = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'Image',
      'CommandLine',
      'EventID',
      'a.b',
      'Image|contains',
      'CommandLine|endswith',
      'CommandLine|contains|all',
      'DestinationIp|cidr',
      'N|gt',
      'F|exists',
    ),
    weight: 4,
  },
  {
    arbitrary: fc
      .tuple(
        fc.constantFrom('Image', 'CommandLine', 'DestinationIp', 'N', ''),
        fc.array(
          fc.constantFrom(
            'contains',
            'startswith',
            'endswith',
            'all',
            're',
            'i',
            'm',
            's',
            'cidr',
            'base64',
            'base64offset',
            'wide',
            'utf16be',
            'windash',
            'exists',
            'fieldref',
            'gt',
            'lte',
            'neq',
            'cased',
            'expand',
            'hour',
            'bogus',
          ),
          { maxLength: 3 },
        ),
      )
      .map(([f, mods]) => [f, ...mods].join('|')),
    weight: 1,
  },
)
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }))
const selection = fc.oneof(
  fc.dictionary(key, value, { maxKeys: 3 }),
  fc.array(fc.dictionary(key, value, { maxKeys: 2 }), { maxLength: 2 }),
  fc.array(scalar, { maxLength: 3 }),
)
const condition = fc.oneof(
  {
    arbitrary: fc.constantFrom('sel', 'sel and not other', '1 of sel*', 'all of them', 'sel or other', 'not not sel'),
    weight: 6,
  },
  { arbitrary: fc.constantFrom('sel or', '(sel', 'sel | count() > 3', 'nothing'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
)
const document = fc.record(
  {
    title: fc.oneof(
      { arbitrary: fc.string({ minLength: 1, maxLength: 10 }), weight: 8 },
      { arbitrary: fc.integer(), weight: 1 },
    ),
    id: fc.oneof({ arbitrary: fc.uuid(), weight: 8 }, { arbitrary: fc.string({ maxLength: 5 }), weight: 1 }),
    logsource: fc.oneof(
      fc.constant({ product: 'windows', category: 'process_creation' }),
      fc.constant({ product: 'linux', service: 'auditd' }),
      fc.dictionary(fc.constantFrom('product', 'category', 'service'), fc.string({ maxLength: 6 })),
    ),
    detection: fc.record({ sel: selection, other: selection, condition }),
    tags: fc.oneof(
      { arbitrary: fc.constant(['attack.t1489']), weight: 6 },
      {
        arbitrary: fc.array(
          fc.constantFrom('attack.t1489', 'attack.impact', 'attack.T1', 'bad tag', 'car.2013-01-001'),
          { maxLength: 3 },
        ),
        weight: 1,
      },
    ),
    date: fc.oneof(
      { arbitrary: fc.constant('2024-01-01'), weight: 6 },
      { arbitrary: fc.constantFrom('2024/01/01', '2023-02-29'), weight: 1 },
    ),
  },
  { requiredKeys: ['title', 'logsource', 'detection'] },
)

describe('hostile input', () => {
  it('random text loads into rules or positioned diagnostics, never an exception', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = loadRuleText(text, 'fuzz.yml')
        for (const d of r.diagnostics) {
          expect(d.file).toBe('fuzz.yml')
          expect(d.at).toBeDefined()
        }
      }),
      { numRuns: 500, seed: 7 },
    )
  })

  it('random rule-shaped documents load or explain, and compile to every target or are refused', async () => {
    const backends = await Promise.all(TARGET_IDS.map((t) => loadBackend(t)))
    let loaded = 0
    fc.assert(
      fc.property(document, (doc) => {
        const r = loadRuleText(yaml.dump(doc), 'fuzz.yml')
        expect(r.rules.length + r.diagnostics.filter((d) => d.severity === 'error').length).toBeGreaterThan(0)
        // Every code emitted is one of the table's (diagnostics/codes.ts).
        for (const d of r.diagnostics) expect(isDiagnosticCode(d.code), d.code).toBe(true)
        for (const rule of r.rules) {
          loaded++
          for (const b of backends) {
            const c = b.compile(rule, {})
            if (c.query === undefined) expect(c.diagnostics.some((d) => d.severity === 'error')).toBe(true)
            for (const d of c.diagnostics) expect(isDiagnosticCode(d.code), d.code).toBe(true)
          }
        }
      }),
      { numRuns: 800, seed: 1489 },
    )
    expect(loaded).toBeGreaterThan(20)
  })
})
