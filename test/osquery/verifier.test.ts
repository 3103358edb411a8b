/**
 * The verifier runs the emitted text in SQLite: what it accepts and rejects, the semantics of
 * osquery's functions as registered, and that it does catch a wrong query. The documented limits
 * (values Sigma folds with special casing, regex line separators, arrays) are shown here too.
 */
import { withOrigin } from '../../src/origin.js'
import { describe, expect, it } from 'vitest'
import { verifier, sqlite } from '../../src/verify/osquery.js'
import { registerOsqueryFunctions, in_cidr_block, regex_match } from '../../src/verify/osquery-udf.js'
import { backend } from '../../src/backends/osquery.js'
import { checkEquivalence, checkQuery } from '../../src/proof/equivalence.js'
import { sigma } from './helpers.js'

const rule = sigma("  sel:\n    CommandLine|contains: 'sshd_1'\n  condition: sel")
const PROC = "SELECT * FROM process_etw_events WHERE type = 'ProcessStart' AND "

async function run(sql: string): Promise<unknown[][]> {
  const db = new (await sqlite()).Database()
  try {
    registerOsqueryFunctions(db)
    db.run('CREATE TABLE t (name TEXT COLLATE NOCASE, s TEXT, n BIGINT)')
    db.run("INSERT INTO t VALUES ('WinDefend', 'sshdX1', 4688)")
    return db.exec(sql)[0]?.values ?? []
  } finally {
    db.close()
  }
}

describe('osquery verifier: what SQLite accepts', () => {
  it.each([
    ['a syntax error', `${PROC}cmdline LIKE;`],
    ['an unknown column', `${PROC}parent_path = 'x';`],
    ['a table osquery does not have', "SELECT * FROM process_creations WHERE cmdline = 'x';"],
    ['two statements', `${PROC}cmdline = 'x'; SELECT 1;`],
    ['not a SELECT', 'DELETE FROM process_etw_events;'],
    ['REGEXP, which osquery does not define', `${PROC}cmdline REGEXP 'x';`],
    ["a function newer than osquery's SQLite 3.42", `${PROC}cmdline = unistr('x');`],
  ])('rejects %s as verify/parse', async (_what, sql) => {
    const v = await verifier.verify(sql, withOrigin([{ CommandLine: 'x' }], rule.logsource))
    expect(v.matches).toBeUndefined()
    expect(v.diagnostics.map((d) => d.code)).toEqual(['verify/parse'])
  })

  it('reads only the rows of its own table: a Windows process start is not a row of the Linux process_events', async () => {
    const sql = "SELECT * FROM process_events WHERE cmdline = 'x';"
    const events = [
      { CommandLine: 'x', _logsource: { product: 'windows', category: 'process_creation' } },
      { CommandLine: 'x', _logsource: { product: 'linux', category: 'process_creation' } },
    ]
    const v = await verifier.verify(sql, events)
    expect(v.diagnostics).toEqual([])
    expect(v.matches).toEqual([false, true])
  })

  it('a Windows process start is an ETW row and a Sysmon event 1 row: the query reads the row of its own table', async () => {
    const sysmon =
      "SELECT * FROM windows_events WHERE source = 'Microsoft-Windows-Sysmon/Operational' AND eventid = 1 AND json_extract(data, '$.Data.ParentImage') = 'p';"
    const events = [
      { CommandLine: 'x', ParentImage: 'p', _logsource: { product: 'windows', category: 'process_creation' } },
      { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 1, ParentImage: 'p' },
      { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 5, ParentImage: 'p' },
    ]
    expect((await verifier.verify(sysmon, events)).matches).toEqual([true, true, false])
    expect((await verifier.verify(`${PROC}cmdline = 'x';`, events)).matches).toEqual([true, false, false])
    // The proof fails a query pinned to the wrong event id.
    const wrong = sysmon.replace('eventid = 1', 'eventid = 5')
    const r = sigma('  sel:\n    ParentImage: p\n  condition: sel', 'product: windows\n  category: process_creation')
    expect((await verifier.verify(wrong, events)).matches).toEqual([false, false, true])
    const eq = await checkQuery(r, wrong, events, verifier)
    expect(eq.mismatches.length).toBeGreaterThan(0)
  })

  it('reports a query that fails at run time (in_cidr_block on a NULL) as verify/runtime', async () => {
    const r = sigma(
      "  sel:\n    IpAddress|cidr: '10.0.0.0/8'\n  condition: sel",
      'product: windows\n  service: security',
    )
    const v = await verifier.verify(
      "SELECT * FROM windows_events WHERE in_cidr_block('10.0.0.0/8', json_extract(data, '$.Data.IpAddress'));",
      withOrigin([{}], r.logsource),
    )
    expect(v.diagnostics.map((d) => d.code)).toEqual(['verify/runtime'])
    expect(v.diagnostics[0]!.message).toContain('IP address must be a string')
  })

  it('catches a backend that forgets to escape _ in LIKE', async () => {
    const events = [{ CommandLine: 'sshd_1' }, { CommandLine: 'sshdX1' }]
    const v = await verifier.verify(`${PROC}cmdline LIKE '%sshd_1%';`, withOrigin(events, rule.logsource))
    expect(v.matches).toEqual([true, true]) // the reference says [true, false]
    const good = await verifier.verify(
      `${PROC}cmdline LIKE '%sshd\\_1%' ESCAPE '\\';`,
      withOrigin(events, rule.logsource),
    )
    expect(good.matches).toEqual([true, false])
  })

  it('catches NOT over a NULL column dropping the row', async () => {
    const r = sigma("  sel:\n    CommandLine|contains: 'x'\n  condition: not sel")
    const v = await verifier.verify(
      `${PROC}NOT (cmdline LIKE '%x%');`,
      withOrigin([{}, { CommandLine: 'y' }], r.logsource),
    )
    expect(v.matches).toEqual([false, true]) // the reference says [true, true]
  })
})

describe('osquery verifier: SQLite and osquery semantics it runs', () => {
  it('= follows a NOCASE column, GLOB and LIKE ignore it', async () => {
    expect(
      await run(
        "SELECT name = 'windefend', name = 'windefend' COLLATE BINARY, name GLOB 'win*', name LIKE 'win%' FROM t",
      ),
    ).toEqual([[1, 0, 0, 1]])
  })
  it('LIKE folds ASCII only; _ is one character', async () => {
    expect(await run("SELECT 'É' LIKE 'é', 'E' LIKE 'e', s LIKE 'sshd_1', 'a😀' LIKE 'a_' FROM t")).toEqual([
      [0, 1, 1, 1],
    ])
  })
  it('an INTEGER column compares numerically with a text literal', async () => {
    expect(await run("SELECT n = '4688', n = '04688', CAST(n AS TEXT) = '04688' FROM t")).toEqual([[1, 1, 0]])
  })
  it('regex_match: unanchored search returning the text or NULL; a match of "0" is falsy in WHERE', async () => {
    expect(regex_match('a0b', '[0-9]', 0)).toBe('0')
    expect(regex_match('ab', '[0-9]', 0)).toBeNull()
    expect(regex_match(null, 'a', 0)).toBeNull()
    expect(await run("SELECT count(*) FROM t WHERE regex_match('a0', '[0-9]', 0)")).toEqual([[0]])
  })
  it('regex_match works on bytes, as std::regex over std::string', () => {
    expect(regex_match('é', '^.$', 0)).toBeNull()
    expect(regex_match('é', '^..$', 0)).toBe('é')
    expect(regex_match('a\u00a0b', 'a\\sb', 0)).toBeNull()
    expect(() => regex_match('x', '(?<=a)b', 0)).toThrow(/Invalid regex/)
    expect(() => regex_match('x', 'a'.repeat(257), 0)).toThrow(/256/)
  })
  it('in_cidr_block: hosts() leaves out the network and broadcast addresses; bad input is an error', () => {
    expect(in_cidr_block('10.0.0.0/8', '10.1.2.3')).toBe(1)
    expect(in_cidr_block('10.0.0.0/8', '10.0.0.0')).toBe(0)
    expect(in_cidr_block('10.0.0.0/8', '10.255.255.255')).toBe(0)
    expect(in_cidr_block('10.1.2.3/32', '10.1.2.3')).toBe(1)
    expect(in_cidr_block('::/0', '::1')).toBe(1)
    expect(() => in_cidr_block('10.0.0.0/8', null)).toThrow(/must be a string/)
    expect(() => in_cidr_block('10.0.0.0/8', '010.0.0.1')).toThrow(/cannot be parsed/)
    expect(() => in_cidr_block('10.0.0.0', '10.0.0.1')).toThrow(/CIDR/)
  })
})

describe('osquery: documented limits, shown', () => {
  it('values with U+0130 (İ) or U+212A (Kelvin sign): neither Sigma (ASCII folding) nor SQLite lowers them to ASCII', async () => {
    const r = sigma("  sel:\n    CommandLine|contains: 'kill'\n  condition: sel")
    const e = await checkEquivalence(r, [{ CommandLine: '\u212aILL' }, { CommandLine: 'KILL' }], backend, verifier)
    expect(e.expected).toEqual([false, true])
    expect(e.actual).toEqual([false, true])
    const i = await checkEquivalence(
      sigma("  sel:\n    CommandLine|startswith: 'i'\n  condition: sel"),
      [{ CommandLine: 'İstanbul' }],
      backend,
      verifier,
    )
    expect([i.expected, i.actual]).toEqual([[false], [false]])
  })
  it('a regex dot meets U+2028 differently (JavaScript excludes it, std::regex reads bytes)', async () => {
    const r = sigma("  sel:\n    CommandLine|re: 'a.*b'\n  condition: sel")
    const e = await checkEquivalence(r, [{ CommandLine: 'a\u2028b' }], backend, verifier)
    expect([e.expected, e.actual]).toEqual([[false], [true]])
  })
  it('an array value has no osquery row: the verifier says so with a warning', async () => {
    const r = sigma("  sel:\n    CommandLine|contains: 'stop'\n  condition: sel")
    const v = await verifier.verify(
      backend.compile(r).query!,
      withOrigin([{ CommandLine: ['x', 'stop'] }], r.logsource),
    )
    expect(v.diagnostics.map((d) => [d.code, d.severity])).toEqual([['verify/inexact-event', 'warning']])
  })
})
