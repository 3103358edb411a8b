/**
 * Sentinel: a process creation logged as Security 4688 is a SecurityEvent row with 4688's own
 * columns (NewProcessName, ParentProcessName, CommandLine), whether the event states the record
 * (Channel Security, EventID 4688) or only the log source. The verifier's placement is what the
 * Sentinel process_creation query reads, and the proof catches a query on the wrong column.
 */
import { describe, expect, test } from 'vitest'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { and, not } from '../../src/ast/nodes.js'
import { contains, endswith, rule, PROCESS } from './helpers.js'

const SENTINEL = { variant: 'sentinel' }
const record = {
  Channel: 'Security',
  Provider_Name: 'Microsoft-Windows-Security-Auditing',
  EventID: 4688,
  Image: 'C:\\Windows\\System32\\sc.exe',
  CommandLine: 'sc.exe stop spooler',
  ParentImage: 'C:\\Windows\\System32\\cmd.exe',
  SubjectUserName: 'admin',
}

describe('Sentinel: a raw Security 4688 record', () => {
  const r = rule(
    and([
      endswith('Image', '\\sc.exe'),
      contains('CommandLine', ' stop '),
      not(endswith('ParentImage', '\\ccmexec.exe')),
    ]),
    PROCESS,
  )
  const query = backend.compile(r, SENTINEL).query!

  test('is the SecurityEvent 4688 row the process_creation query reads, under NewProcessName and ParentProcessName', async () => {
    expect(query).toContain('NewProcessName')
    const events = [
      record,
      { ...record, CommandLine: 'sc.exe query spooler' },
      { ...record, ParentImage: 'C:\\Windows\\CCM\\CcmExec.exe' },
    ]
    const eq = await checkQuery(r, query, events, verifier, SENTINEL)
    expect(eq.expected).toEqual([true, false, false])
    expect(eq.mismatches).toEqual([])
    expect(eq.unrepresentable).toEqual([])
  })

  test('a query that reads the image from the wrong column misses it, and the proof says so', async () => {
    const wrong = query.replace('NewProcessName', 'ParentProcessName')
    const eq = await checkQuery(r, wrong, [record], verifier, SENTINEL)
    expect(eq.mismatches).toHaveLength(1)
  })

  test('is not judged when it states a field no 4688 record holds, nor by a query reading one', async () => {
    const stated = await verifier.verify(query, [{ ...record, OriginalFileName: 'sc.exe' }], SENTINEL)
    expect(stated.unrepresentable).toEqual([0])
    expect(stated.leftOut?.[0]?.reason).toContain('a Security 4688 record holds no OriginalFileName')
    const sysmon = backend.compile(rule(endswith('OriginalFileName', 'sc.exe'), PROCESS), SENTINEL).query!
    expect(sysmon).toContain('WindowsEvent')
    const unread = await verifier.verify(sysmon, [record], SENTINEL)
    expect(unread.unrepresentable).toEqual([0])
    expect(unread.leftOut?.[0]?.reason).toBe(
      'the query reads OriginalFileName, which a Security 4688 record does not hold',
    )
  })
})

describe('Sentinel: a rule SecurityEvent cannot express, whose fields 4688 records', () => {
  // `CommandLine: null` needs a value that can be missing: SecurityEvent's string columns hold ""
  // instead, so the rule goes to WindowsEvent, whose EventData tells a missing key from "".
  const r = rule(and([endswith('Image', '\\dllhost.exe'), not({ kind: 'Null', field: 'CommandLine' })]), PROCESS)
  const query = backend.compile(r, SENTINEL).query!

  test("reads WindowsEvent's Sysmon event 1 and Security 4688 rows, each under its own names", async () => {
    expect(query).toContain('(Channel == "Microsoft-Windows-Sysmon/Operational" and EventID == 1 and (')
    expect(query).toContain('(Channel == "Security" and EventID == 4688 and (tostring(EventData.NewProcessName)')
    const events = [
      { ...record, Image: 'C:\\Windows\\System32\\dllhost.exe', CommandLine: 'dllhost.exe /Processid:{x}' },
      { ...record, Image: 'C:\\Windows\\System32\\dllhost.exe', CommandLine: null },
    ]
    const eq = await checkQuery(r, query, events, verifier, SENTINEL)
    expect(eq.expected).toEqual([true, false])
    expect(eq.mismatches).toEqual([])
    // Without the 4688 branch the query misses the first record, and the proof says so.
    const sysmonOnly = query.replace(/ or \(Channel == "Security".*$/, '')
    expect((await checkQuery(r, sysmonOnly, events, verifier, SENTINEL)).mismatches).toHaveLength(1)
  })

  test('a rule reading a field 4688 does not record reads Sysmon event 1 only', () => {
    const q = backend.compile(
      rule(and([endswith('Image', '\\dllhost.exe'), not({ kind: 'Null', field: 'OriginalFileName' })]), PROCESS),
      SENTINEL,
    ).query!
    expect(q).toContain('Microsoft-Windows-Sysmon/Operational')
    expect(q).not.toContain('4688')
  })
})
