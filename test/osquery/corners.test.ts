/**
 * osquery's (SQLite's) own corners, each asserted against both the reference evaluator (the rule)
 * and the osquery verifier (the emitted SQL run in SQLite), with the page that documents it.
 * In-process; one SQLite database for the file.
 */
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/osquery.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/osquery.js'
import { rule } from '../support/rules.js'

async function both(detection: string, events: readonly JsonEvent[], logsource?: string) {
  const r = rule(detection, logsource ? { logsource } : {})
  const e = await checkEquivalence(r, events, backend, verifier)
  expect(e.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return { reference: e.expected, osquery: e.actual, where: e.query!.replace(/^[^]*? WHERE /, '') }
}

const sel = (body: string) => `  sel:\n    ${body}\n  condition: sel`

describe('osquery corners', () => {
  it('LIKE folds ASCII letters only and compares every other character exactly — as Sigma does', async () => {
    // "only ASCII characters are case folded" (https://sqlite.org/c3ref/strlike.html).
    const events = [
      { CommandLine: 'xÉCx' },
      { CommandLine: 'xéCx' },
      { CommandLine: 'x\u212aILLx' },
      { CommandLine: 'xKILLx' },
    ]
    const e1 = await both(sel("CommandLine|contains: 'éc'"), events)
    expect(e1.where).toBe("type = 'ProcessStart' AND cmdline LIKE '%éc%';")
    expect(e1.reference).toEqual([false, true, false, false])
    expect(e1.osquery).toEqual(e1.reference)
    const e2 = await both(sel("CommandLine|contains: 'kill'"), events)
    expect(e2.reference).toEqual([false, false, false, true])
    expect(e2.osquery).toEqual(e2.reference)
  })

  it('NOCASE columns: = folds ASCII case there, so a |cased value asks for BINARY', async () => {
    // services.name is declared collate="nocase" (osquery specs/windows/services.table); "NOCASE …
    // only folds the 26 upper case ASCII characters" (https://sqlite.org/datatype3.html#collation).
    const ls = 'product: windows\n    category: service_state'
    const events = [{ ServiceName: 'WinDefend' }, { ServiceName: 'windefend' }]
    const ci = await both(sel("ServiceName: 'windefend'"), events, ls)
    expect(ci.reference).toEqual([true, true])
    expect(ci.osquery).toEqual(ci.reference)
    const cased = await both(sel("ServiceName|cased: 'windefend'"), events, ls)
    expect(cased.where).toContain("name = 'windefend' COLLATE BINARY")
    expect(cased.reference).toEqual([false, true])
    expect(cased.osquery).toEqual(cased.reference)
  })

  it("ESCAPE: % and _ in a value are made literal with ESCAPE '\\' (and backslashes doubled only then)", async () => {
    // "If the optional ESCAPE clause is present … the escape character … match the literal %, _ or
    // itself" (https://sqlite.org/lang_expr.html#the_like_glob_regexp_match_and_extract_operators).
    const events = [
      { CommandLine: 'a%b\\c' },
      { CommandLine: 'aXb\\c' },
      { CommandLine: 'a%b\\\\c' },
      { CommandLine: 'a%b\\cd' },
    ]
    const r = await both(sel("CommandLine: 'a%b\\c*'"), events)
    expect(r.where).toBe("type = 'ProcessStart' AND cmdline LIKE 'a\\%b\\\\c%' ESCAPE '\\';")
    expect(r.reference).toEqual([true, false, false, true])
    expect(r.osquery).toEqual(r.reference)
  })

  it('integer affinity: pid is an integer column, so "4242" is stored as 4242, and a value with a leading zero is text', async () => {
    // "A column with INTEGER affinity … When text data is inserted … converted to INTEGER" (https://sqlite.org/datatype3.html#type_affinity).
    const events = [{ ParentProcessId: '4242' }, { ParentProcessId: 4242 }, { ParentProcessId: '04242' }]
    const exact = await both(sel("ParentProcessId: '4242'"), events)
    expect(exact.where).toContain('ppid = 4242')
    expect(exact.reference).toEqual([true, true, false])
    expect(exact.osquery?.slice(0, 2)).toEqual([true, true])
    const zero = await both(sel("ParentProcessId: '04242'"), events)
    expect(zero.where).toContain("CAST(ppid AS TEXT) = '04242'")
    expect(zero.reference.slice(0, 2)).toEqual([false, false])
    expect(zero.osquery?.slice(0, 2)).toEqual([false, false])
  })
})
