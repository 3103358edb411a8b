/**
 * The eql grammar and verifier on hand-written EQL: Elasticsearch's documented semantics, checked
 * independently of the backend (case rules of each operator, wildcards without escapes, whole-value
 * Lucene regex, three-valued null, arrays, ip fields, parse errors).
 */
import { withOrigin } from '../../src/origin.js'
import { describe, expect, test } from 'vitest'
import { parseEql } from '../../grammars/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { luceneMatches, wildcardMatches } from '../../src/verify/eql-match.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { astRule } from './helpers.js'

const PROC = astRule({ kind: 'Exists', field: 'CommandLine' })
/** Elastic Defend's Linux process events keep empty values (Sysmon's pipelines remove them: sysmon-removed.test.ts). */
const LINUX_PROC = astRule({ kind: 'Exists', field: 'CommandLine' }, { product: 'linux', category: 'process_creation' })
const NET = astRule({ kind: 'Exists', field: 'DestinationIp' }, { product: 'windows', category: 'network_connection' })

async function run(query: string, events: readonly JsonEvent[], rule = PROC): Promise<readonly boolean[] | string> {
  const r = await verifier.verify(query, withOrigin(events, rule.logsource))
  return r.matches ?? r.diagnostics.map((d) => d.code).join(' ')
}

describe('eql grammar', () => {
  test('parses the emitted subset into its own AST', () => {
    const r = parseEql(
      'process where a.b : ("x*", "y") and not (c == null or cidrMatch(?d, "10.0.0.0/8")) and `e-f` regex~ """a\\b"""',
    )
    expect(r.errors).toEqual([])
    expect(r.query).toEqual({
      category: 'process',
      condition: {
        kind: 'and',
        items: [
          {
            kind: 'compare',
            field: { name: 'a.b', optional: false },
            op: ':',
            values: [
              { type: 'string', value: 'x*' },
              { type: 'string', value: 'y' },
            ],
          },
          {
            kind: 'not',
            item: {
              kind: 'or',
              items: [
                { kind: 'compare', field: { name: 'c', optional: false }, op: '==', values: [{ type: 'null' }] },
                {
                  kind: 'call',
                  name: 'cidrMatch',
                  insensitive: false,
                  field: { name: 'd', optional: true },
                  args: [{ type: 'string', value: '10.0.0.0/8' }],
                },
              ],
            },
          },
          {
            kind: 'compare',
            field: { name: 'e-f', optional: false },
            op: 'regex~',
            values: [{ type: 'string', value: 'a\\b' }],
          },
        ],
      },
    })
  })
  test('and binds tighter than or; not tighter than and', () => {
    const r = parseEql('any where a : "1" or not b : "2" and c : "3"')
    expect(r.query?.condition).toMatchObject({
      kind: 'or',
      items: [{ kind: 'compare' }, { kind: 'and', items: [{ kind: 'not' }, { kind: 'compare' }] }],
    })
  })
  test('string escapes: \\\\ \\" \\n \\r \\t \\u{…}', () => {
    const r = parseEql('any where a == "\\\\\\"\\n\\r\\t\\u{e9}\\u{1F600}"')
    expect(r.query?.condition).toMatchObject({ values: [{ type: 'string', value: '\\"\n\r\té😀' }] })
  })
  test('keywords inside dotted names and as backticked fields', () => {
    expect(parseEql('any where winlog.event_data.not : "x" and `where` : "y"').errors).toEqual([])
    expect(parseEql('any where android : "x"').query?.condition).toMatchObject({ field: { name: 'android' } })
  })
  test('numbers, lists of numbers, in~, like~', () => {
    const r = parseEql('any where p in (1, 2) and q <= -3.5 and r in~ ("A") and s like~ "a*"')
    expect(r.errors).toEqual([])
  })
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['single quotes', "any where a : 'x'"],
    ['= is not an operator', 'any where a = "x"'],
    ['unknown escape', 'any where a : "\\q"'],
    ['missing where', 'process a : "x"'],
    ['unterminated string', 'any where a : "x'],
    ['trailing and', 'any where a : "x" and'],
    ['unbalanced parenthesis', 'any where (a : "x"'],
  ]
  for (const [name, q] of bad) {
    test(`rejects ${name}`, async () => {
      expect(parseEql(q).errors.length).toBeGreaterThan(0)
      expect(await run(q, [{}])).toMatch(/^verify\/parse( verify\/parse)*$/)
    })
  }
})

describe('eql semantics: strings', () => {
  const cmd = (v: unknown): JsonEvent => ({ CommandLine: v })
  test(': is case-insensitive for ASCII only (Elasticsearch folds ASCII letters)', async () => {
    expect(await run('process where process.command_line : "abc"', [cmd('ABC'), cmd('aBc'), cmd('abcd')])).toEqual([
      true,
      true,
      false,
    ])
    expect(await run('process where process.command_line : "é"', [cmd('é'), cmd('É')])).toEqual([true, false])
  })
  test('* is any run, ? one code point, no escapes: \\ is literal', async () => {
    expect(wildcardMatches('a*c', 'a\nbc', true)).toBe(true)
    expect(wildcardMatches('a?c', 'a😀c', true)).toBe(true)
    expect(wildcardMatches('a?c', 'ac', true)).toBe(false)
    expect(wildcardMatches('a\\*', 'a\\xyz', true)).toBe(true)
    expect(wildcardMatches('a%_', 'a%_', true)).toBe(true)
    expect(wildcardMatches('a%_', 'abc', true)).toBe(false)
  })
  test('== and like are case-sensitive; == has no wildcards', async () => {
    expect(await run('process where process.command_line == "a*"', [cmd('a*'), cmd('ab'), cmd('A*')])).toEqual([
      true,
      false,
      false,
    ])
    expect(await run('process where process.command_line like "a*"', [cmd('ab'), cmd('Ab')])).toEqual([true, false])
    expect(await run('process where process.command_line like~ "a*"', [cmd('Ab')])).toEqual([true])
    expect(await run('process where process.command_line in ("a", "b")', [cmd('b'), cmd('B')])).toEqual([true, false])
    expect(await run('process where process.command_line in~ ("a", "b")', [cmd('B')])).toEqual([true])
  })
  test('Lucene regex: whole value, . any code point, optional operators refused', async () => {
    expect(luceneMatches('b', 'abc', false)).toBe(false)
    expect(luceneMatches('.*b.*', 'a\nbc', false)).toBe(true)
    expect(luceneMatches('a.c', 'a😀c', false)).toBe(true)
    expect(luceneMatches('a\\.c', 'abc', false)).toBe(false)
    expect(luceneMatches('[a-c]+', 'ABC', true)).toBe(false)
    expect(luceneMatches('[abc]+', 'ABC', true)).toBe(true)
    expect(luceneMatches('abc', 'ABC', true)).toBe(true)
    expect(luceneMatches('é', 'É', true)).toBe(false)
    expect(luceneMatches('a(b|())c', 'ac', false)).toBe(true)
    expect(await run('process where process.command_line regex "a@b"', [cmd('a@b')])).toBe('verify/eval')
    expect(await run('process where process.command_line regex "a|"', [cmd('a')])).toBe('verify/eval')
  })
  test('an optional field no index maps is null; a plain one is an error', async () => {
    expect(await run('process where ?no.such.field == null', [{}])).toEqual([true])
    expect(await run('process where not ?no.such.field : "x"', [{}])).toEqual([false])
    expect(await run('process where ?winlog.event_data.X : "x"', [{ X: 'X' }])).toEqual([true])
  })
  test(': on a number field is an error, as in Elasticsearch', async () => {
    expect(await run('process where process.pid : "4"', [{ ProcessId: 4 }])).toBe('verify/eval')
    expect(await run('process where no.such.field : "4"', [{}])).toBe('verify/eval')
  })
})

describe('eql semantics: null, arrays, numbers, addresses', () => {
  test('a comparison on a missing field is null, and not null is null', async () => {
    const q = 'process where not process.command_line : "x"'
    expect(await run(q, [{}, { CommandLine: null }, { CommandLine: 'y' }, { CommandLine: 'x' }])).toEqual([
      false,
      false,
      true,
      false,
    ])
    const guarded = 'process where not (process.command_line != null and process.command_line : "x")'
    expect(await run(guarded, [{}, { CommandLine: null }, { CommandLine: 'y' }])).toEqual([true, true, true])
  })
  test('== null / != null test presence; an empty string is present', async () => {
    expect(
      await run(
        'process where process.command_line == null',
        [{}, { CommandLine: null }, { CommandLine: '' }],
        LINUX_PROC,
      ),
    ).toEqual([true, true, false])
    expect(
      await run(
        'process where process.command_line != null',
        [{}, { CommandLine: '' }, { CommandLine: {} }],
        LINUX_PROC,
      ),
    ).toEqual([false, true, true])
  })
  test('an array field matches when any value does', async () => {
    expect(
      await run('process where process.command_line : "b"', [{ CommandLine: ['a', 'B'] }, { CommandLine: ['a'] }]),
    ).toEqual([true, false])
    expect(
      await run('process where not (process.command_line != null and process.command_line : "b")', [
        { CommandLine: ['a', 'b'] },
      ]),
    ).toEqual([false])
  })
  test('keyword fields hold numbers and booleans as text', async () => {
    expect(await run('process where winlog.event_id : "4688"', [{ EventID: 4688 }, { EventID: '4688' }])).toEqual([
      true,
      true,
    ])
  })
  test('number fields coerce numeric strings; other values are unsearchable', async () => {
    const q = 'network where destination.port == 443 or destination.port > 1000'
    expect(
      await run(
        q,
        [{ DestinationPort: 443 }, { DestinationPort: '443' }, { DestinationPort: 'x' }, { DestinationPort: 8080 }],
        NET,
      ),
    ).toEqual([true, true, false, true])
  })
  test('ip fields compare addresses; IPv4-mapped IPv6 is the IPv4 address', async () => {
    const q = 'network where cidrMatch(destination.ip, "10.0.0.0/8")'
    expect(
      await run(
        q,
        [
          { DestinationIp: '10.1.2.3' },
          { DestinationIp: '::ffff:10.1.2.3' },
          { DestinationIp: '11.0.0.1' },
          { DestinationIp: 'x' },
        ],
        NET,
      ),
    ).toEqual([true, true, false, false])
    expect(await run('network where destination.ip == "::1"', [{ DestinationIp: '0:0::1' }], NET)).toEqual([true])
  })
  test('the event category must match; any takes every event', async () => {
    expect(await run('process where process.command_line != null', [{ CommandLine: 'x' }])).toEqual([true])
    expect(await run('file where process.command_line != null', [{ CommandLine: 'x' }])).toEqual([false])
    expect(await run('any where process.command_line != null', [{ CommandLine: 'x' }])).toEqual([true])
  })
})
