/**
 * Elasticsearch EQL's own corners, each asserted against both the reference evaluator (the rule)
 * and the eql verifier (the emitted text), with the page that documents it. In-process.
 */
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/eql.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { withOrigin } from '../../src/origin.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/eql.js'
import { rule } from '../support/rules.js'

async function both(detection: string, events: readonly JsonEvent[], logsource?: string) {
  const r = rule(detection, logsource ? { logsource } : {})
  const e = await checkEquivalence(r, events, backend, verifier)
  expect(e.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return { reference: e.expected, eql: e.actual, query: e.query!, unrepresentable: e.unrepresentable }
}

const sel = (body: string) => `  sel:\n    ${body}\n  condition: sel`
const PROCESS = 'process where event.type == "start" and '

describe('eql corners', () => {
  it('`:` is case-insensitive with * and ? wildcards; `==` is case-sensitive and takes * literally', async () => {
    // "`:` (equal, case-insensitive) … Supports wildcards"; "`==` (equal, case-sensitive) …
    // Wildcards are not supported" (https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html).
    const events = [{ CommandLine: 'A-C' }, { CommandLine: 'abc' }, { CommandLine: 'a*c' }, { CommandLine: 'ac' }]
    const ci = await both(sel("CommandLine: 'a?c'"), events)
    expect(ci.query).toBe(PROCESS + 'process.command_line : "a?c"')
    expect(ci.reference).toEqual([true, true, true, false])
    expect(ci.eql).toEqual(ci.reference)
    const cased = await both(sel("CommandLine|cased: 'a\\*c'"), events)
    expect(cased.query).toBe(PROCESS + 'process.command_line == "a*c"')
    expect(cased.reference).toEqual([false, false, true, false])
    expect(cased.eql).toEqual(cased.reference)
  })

  it('`:` folds ASCII only, as Sigma does: É is not é, the Kelvin sign is not k', async () => {
    // AutomatonQueries.toCaseInsensitiveChar: "For now we only work with ASCII characters"; the
    // term query's case_insensitive: "allows ASCII case insensitive matching"
    // (https://www.elastic.co/guide/en/elasticsearch/reference/current/query-dsl-term-query.html).
    const events = [
      { CommandLine: 'ÉCOLE' },
      { CommandLine: 'éCOLE' },
      { CommandLine: '\u212aILL' },
      { CommandLine: 'KILL' },
    ]
    const e1 = await both(sel("CommandLine: 'école'"), events)
    expect(e1.query).toBe(PROCESS + 'process.command_line : "école"')
    expect(e1.reference).toEqual([false, true, false, false])
    expect(e1.eql).toEqual(e1.reference)
    const e2 = await both(sel("CommandLine: 'kill'"), events)
    expect(e2.reference).toEqual([false, false, false, true])
    expect(e2.eql).toEqual(e2.reference)
  })

  it('keyword vs text: a text field is refused (EQL searches keyword fields only)', () => {
    // "Text fields are not supported" (eql-syntax page, "Text fields").
    const c = backend.compile(
      rule(sel("ScriptBlockText|contains: 'iex'"), { logsource: 'product: windows\n    category: ps_script' }),
    )
    expect(c.query).toBeUndefined()
    expect(c.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-field-type'])
  })

  it('ignore_above: a keyword value longer than 1024 characters is not indexed, so no query can judge it: left out, never a silent no-match', async () => {
    // "Strings longer than the ignore_above setting will not be indexed or stored"
    // (https://www.elastic.co/guide/en/elasticsearch/reference/current/ignore-above.html); ECS
    // keyword fields are mapped with ignore_above 1024 (https://www.elastic.co/guide/en/ecs/current/ecs-guidelines.html).
    const long = 'C:\\' + 'x'.repeat(1100) + '\\sc.exe'
    const events = [{ Image: long }, { Image: 'C:\\Windows\\sc.exe' }]
    const r = await both(sel("Image|endswith: '\\sc.exe'"), events)
    expect(r.reference).toEqual([true, true])
    expect(r.eql).toEqual([false, true])
    expect(r.unrepresentable).toEqual([0])
    // process.command_line is a wildcard field: no ignore_above, the long value is searched.
    const cl = await both(sel("CommandLine|endswith: 'stop'"), [{ CommandLine: 'x'.repeat(1100) + ' stop' }])
    expect([cl.reference, cl.eql, cl.unrepresentable]).toEqual([[true], [true], []])
  })

  it('a long field the query does not read never leaves the event out', async () => {
    const v = await verifier.verify(
      PROCESS + 'process.command_line : "*stop*"',
      withOrigin([{ CommandLine: 'net stop x', Image: 'x'.repeat(2000), ProcessId: '0x2f8' }], {
        product: 'windows',
        category: 'process_creation',
      }),
    )
    expect([v.matches, v.unrepresentable, v.leftOut]).toEqual([[true], [], []])
  })
})
