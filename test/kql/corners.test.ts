/**
 * KQL's own corners: where Kusto's semantics surprise, each case asserted against both the
 * reference evaluator (the rule) and the kql verifier (the emitted text), with the page that
 * documents it. In-process, the parser and verifier loaded once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/kql.js'
import { adversarialEvents } from '../../src/proof/adversarial.js'
import { checkEquivalence, checkQuery } from '../../src/proof/equivalence.js'
import { withOrigin } from '../../src/origin.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/kql.js'
import { rule } from '../support/rules.js'

/** The rule's answers and the query's, event by event, and the query. */
async function both(detection: string, events: readonly JsonEvent[]) {
  const r = rule(detection)
  const e = await checkEquivalence(r, events, backend, verifier)
  expect(e.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return { reference: e.expected, kql: e.actual, query: e.query!.split('\n').at(-1)! }
}

const sel = (body: string) => `  sel:\n    ${body}\n  condition: sel`

describe('kql corners', () => {
  it('contains is a substring, has a whole term: a Sigma contains is never written as has', async () => {
    // "has: Right-hand-side (RHS) is a whole term in left-hand-side (LHS)"; "contains: RHS occurs
    // as a subsequence of LHS" (https://learn.microsoft.com/kusto/query/datatypes-string-operators).
    const r = await both(sel("CommandLine|contains: 'top'"), [{ CommandLine: 'net stop x' }, { CommandLine: 'to p' }])
    expect(r.query).toBe('| where ProcessCommandLine contains "top"')
    expect(r.reference).toEqual([true, false])
    expect(r.kql).toEqual(r.reference)
  })

  it('=~ folds ASCII only: the Kelvin sign, dotted İ and long ſ are not k, i, s — for Sigma either', async () => {
    // "Case-insensitive operators are currently supported only for ASCII-text"
    // (https://www.ibm.com/docs/en/uax?topic=functions-equals, Microsoft's =~ page mirrored).
    const events = [
      { CommandLine: 'KILL' },
      { CommandLine: '\u212aILL' },
      { CommandLine: 'K\u0130LL' },
      { CommandLine: 'kill' },
    ]
    const r = await both(sel("CommandLine: 'kill'"), events)
    expect(r.query).toBe('| where ProcessCommandLine =~ "kill"')
    expect(r.reference).toEqual([true, false, false, true])
    expect(r.kql).toEqual(r.reference)
  })

  it('a value with a non-ASCII letter does not lean on =~ beyond ASCII: a regex compares it exactly', async () => {
    const events = [{ CommandLine: 'Été' }, { CommandLine: 'ÉTé' }, { CommandLine: 'été' }, { CommandLine: 'ÉTÉ' }]
    const r = await both(sel("CommandLine: 'Été'"), events)
    expect(r.query).toBe('| where ProcessCommandLine matches regex @"^É[Tt]é$"')
    expect(r.reference).toEqual([true, true, false, false])
    expect(r.kql).toEqual(r.reference)
  })

  it("RE2's (?i) is Unicode simple folding (ſ = s, K = k): a wildcard value spells [Ss], and the old (?is) emission fails the proof", async () => {
    // RE2 syntax: (?i) "case-insensitive" (https://github.com/google/re2/wiki/Syntax); its fold
    // orbits pair s, S and ſ; k, K and the Kelvin sign.
    const events = [{ CommandLine: 'a\u017f' }, { CommandLine: 'AS' }, { CommandLine: 'a\u212a' }]
    const r = await both(sel("CommandLine: 'a*s'"), events)
    expect(r.query).toBe('| where ProcessCommandLine matches regex @"(?s)^[Aa].*[Ss]$"')
    expect(r.reference).toEqual([false, true, false])
    expect(r.kql).toEqual(r.reference)
    // The emission before the fix, run by the same verifier: it selects aſ, which the rule does not.
    const old = await verifier.verify(
      'DeviceProcessEvents\n| where ProcessCommandLine matches regex @"(?is)^a.*s$"',
      withOrigin(events, rule(sel("CommandLine: 'a*s'")).logsource),
    )
    expect(old.matches).toEqual([true, true, false])
    // The generated adversarial events carry ſ and K, so the proof catches the old emission alone.
    const r2 = rule(sel("CommandLine: 'a*s'"))
    const generated = adversarialEvents(r2.detection, 120, 1489, r2.logsource)
    expect(generated.some((e) => String(e['CommandLine']).includes('\u017f'))).toBe(true)
    const proof = await checkQuery(
      r2,
      'DeviceProcessEvents\n| where ProcessCommandLine matches regex @"(?is)^a.*s$"',
      generated,
      verifier,
    )
    expect(proof.mismatches.length).toBeGreaterThan(0)
    const fixed = await checkEquivalence(r2, generated, backend, verifier)
    expect(fixed.mismatches).toEqual([])
  })

  it('dynamic columns are not compared as strings: a field mapped to one is refused, and the verifier does not write one', async () => {
    // AdditionalFields is dynamic (https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table);
    // a dynamic value compared with a string is its JSON text, not a field inside it
    // (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic).
    const dir = mkdtempSync(join(tmpdir(), 'kql-corner-'))
    const pipeline = join(dir, 'p.yml')
    writeFileSync(
      pipeline,
      'logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    table: DeviceProcessEvents\n    conditions: { ActionType: ProcessCreated }\n    fields: { CommandLine: AdditionalFields }\n',
    )
    try {
      const c = backend.compile(rule(sel("CommandLine: 'x'")), { pipeline })
      expect(c.query).toBeUndefined()
      expect(c.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-field-type'])
      const v = await verifier.verify(
        'DeviceProcessEvents\n| where AdditionalFields == "x"',
        withOrigin([{ AdditionalFields: 'x' }], rule(sel("CommandLine: 'x'")).logsource),
        { pipeline },
      )
      expect(v.matches).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
