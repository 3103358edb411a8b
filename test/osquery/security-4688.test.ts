/**
 * Windows process creation logged as Security 4688: the verifier's own model of where such a record
 * lands in osquery (a windows_events row of the Security channel, with 4688's EventData names, and
 * the process start osquery's ETW table records), and the proof catching a query that misses it.
 */
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/osquery.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { verifier } from '../../src/verify/osquery.js'
import { sigma, WIN_PROC } from './helpers.js'

const SECURITY_4688 = { Channel: 'Security', Provider_Name: 'Microsoft-Windows-Security-Auditing', EventID: 4688 }
const stop = {
  ...SECURITY_4688,
  Image: 'C:\\Windows\\System32\\sc.exe',
  CommandLine: 'sc.exe stop spooler',
  ParentImage: 'C:\\Windows\\System32\\cmd.exe',
  SubjectUserName: 'admin',
}
// Reads ParentImage, which process_etw_events does not hold: the windows_events form.
const parentRule = sigma(
  "  sel:\n    Image|endswith: '\\sc.exe'\n    ParentImage|endswith: '\\cmd.exe'\n  condition: sel",
  WIN_PROC,
)

describe('osquery: a Security 4688 process creation', () => {
  it('the Sysmon-only query misses it and the proof says so; the query with the 4688 branch selects it', async () => {
    const query = backend.compile(parentRule).query!
    const sysmonOnly = query.replace(
      /^SELECT \* FROM windows_events WHERE \((.*?)\) OR \(.*\);$/,
      'SELECT * FROM windows_events WHERE $1;',
    )
    expect(sysmonOnly).not.toContain('4688')
    const missed = await checkQuery(parentRule, sysmonOnly, [stop], verifier)
    expect(missed.expected).toEqual([true])
    expect(missed.mismatches).toHaveLength(1)
    const found = await checkQuery(parentRule, query, [stop], verifier)
    expect(found.mismatches).toEqual([])
    expect(found.unrepresentable).toEqual([])
  })

  it("lands in windows_events under 4688's own names: a query reading Sigma's Image there does not select it", async () => {
    const own =
      "SELECT * FROM windows_events WHERE source = 'Security' AND eventid = 4688 AND json_extract(data, '$.Data.NewProcessName') = 'C:\\Windows\\System32\\sc.exe' AND json_extract(data, '$.Data.SubjectUserName') = 'admin';"
    const sigmaNames = own.replace('NewProcessName', 'Image')
    expect((await verifier.verify(own, [stop])).matches).toEqual([true])
    expect((await verifier.verify(sigmaNames, [stop])).matches).toEqual([false])
  })

  it("is osquery's row: the event data is the `data` column's object under Data, and a query on EventData (osquery's format before its event-log parser was rewritten) reads nothing", async () => {
    const query = backend.compile(parentRule).query!
    expect(query).toContain("'$.Data.NewProcessName'")
    const eventData = query.replaceAll("'$.Data.", "'$.EventData.")
    const sysmon = {
      ...stop,
      Channel: 'Microsoft-Windows-Sysmon/Operational',
      EventID: 1,
      Provider_Name: 'Microsoft-Windows-Sysmon',
    }
    const { SubjectUserName: _, ...sysmonFields } = sysmon
    expect((await checkQuery(parentRule, query, [stop, sysmonFields], verifier)).mismatches).toEqual([])
    expect((await checkQuery(parentRule, eventData, [stop, sysmonFields], verifier)).mismatches).toHaveLength(2)
  })

  it('is the process start the ETW table records: the ETW form selects it by path and command line', async () => {
    const etwRule = sigma(
      "  sel:\n    Image|endswith: '\\sc.exe'\n    CommandLine|contains: ' stop '\n  condition: sel",
      WIN_PROC,
    )
    const query = backend.compile(etwRule).query!
    expect(query).toContain('FROM process_etw_events')
    const r = await checkQuery(etwRule, query, [stop, { ...stop, CommandLine: 'sc.exe query spooler' }], verifier)
    expect(r.expected).toEqual([true, false])
    expect(r.mismatches).toEqual([])
  })

  it('is not judged by a query that reads what a 4688 record does not say, nor when it states such a field', async () => {
    const etwUser =
      "SELECT * FROM process_etw_events WHERE type = 'ProcessStart' AND path LIKE '%\\sc.exe' AND username IS NULL;"
    const sysmonHash =
      "SELECT * FROM windows_events WHERE source = 'Microsoft-Windows-Sysmon/Operational' AND eventid = 1 AND json_extract(data, '$.Data.OriginalFileName') IS NULL;"
    for (const sql of [etwUser, sysmonHash]) {
      const v = await verifier.verify(sql, [stop])
      expect(v.unrepresentable, sql).toEqual([0])
      expect(v.leftOut?.[0]?.reason, sql).toMatch(/Security 4688 record does not (decide|hold)/)
    }
    const stated = await verifier.verify(backend.compile(parentRule).query!, [{ ...stop, OriginalFileName: 'sc.exe' }])
    expect(stated.unrepresentable).toEqual([0])
    expect(stated.leftOut?.[0]?.reason).toBe('a Security 4688 record holds no OriginalFileName')
  })
})

describe("osquery: the classic PowerShell log's unnamed event data", () => {
  const rule = sigma(
    "  sel:\n    Data|contains: 'HostApplication=powershell.exe -nop'\n  condition: sel",
    'product: windows\n  category: ps_classic_start',
  )
  const event = {
    Channel: 'Windows PowerShell',
    EventID: 400,
    Data: 'NewEngineState=Available PreviousEngineState=None HostName=ConsoleHost HostApplication=powershell.exe -nop -w hidden',
  }

  it('is a JSON array in the row, so a query on a named key reads nothing and the proof says so; the backend refuses the field', async () => {
    const named =
      "SELECT * FROM windows_events WHERE source = 'Windows PowerShell' AND eventid = 400 AND json_extract(data, '$.Data.Data') LIKE '%HostApplication=powershell.exe -nop%';"
    const eq = await checkQuery(rule, named, [event], verifier)
    expect(eq.expected).toEqual([true])
    expect(eq.mismatches).toHaveLength(1)
    // Any value of the array: the row holds the text, without a name.
    const anyValue =
      "SELECT * FROM windows_events WHERE source = 'Windows PowerShell' AND EXISTS (SELECT 1 FROM json_each(data, '$.Data') WHERE value LIKE '%HostApplication=powershell.exe -nop%');"
    expect((await verifier.verify(anyValue, [event])).matches).toEqual([true])
    const c = backend.compile(rule)
    expect(c.query).toBeUndefined()
    expect(c.diagnostics.map((d) => d.code)).toEqual(['target/unknown-field'])
  })
})
