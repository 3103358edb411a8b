/**
 * `--variant cim`: rules over CIM data models through `| datamodel <model> <dataset> search`, proven
 * by the verifier's own model of which events each dataset holds and under which field names; a
 * field CIM lacks is refused, a wrong field name or dataset fails the proof. In-process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/spl.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/spl.js'
import { compileOk, mismatches, processRule, sigma } from './helpers.js'

const CIM = { variant: 'cim' }
const SC_STOP = processRule("sel:\n  Image|endswith: '\\sc.exe'\n  CommandLine|contains: ' stop '")
const EVENTS: JsonEvent[] = [
  { Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe stop spooler' },
  { Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe query spooler' },
  { Channel: 'Security', EventID: 4688, Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe stop x' },
  { Channel: 'Microsoft-Windows-Sysmon/Operational', EventID: 5, Image: 'C:\\x\\sc.exe', CommandLine: 'sc stop x' },
]

describe('spl --variant cim', () => {
  it('a process creation is a search over Endpoint.Processes with CIM field names', async () => {
    expect(compileOk(SC_STOP, CIM)).toBe(
      '| datamodel Endpoint Processes search | search Processes.process_path="*\\\\sc.exe" Processes.process="* stop *"',
    )
    const r = await mismatches(SC_STOP, EVENTS, CIM)
    expect(r.errors).toEqual([])
    expect(r.mismatches).toEqual([])
  })

  it('Sysmon for Linux process creations are in Endpoint.Processes too; a Linux file event is not', async () => {
    const r = sigma(
      "title: t\nlogsource:\n  product: linux\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '/systemctl'\n  condition: sel\n",
    )
    expect(compileOk(r, CIM)).toBe(
      '| datamodel Endpoint Processes search | search Processes.process_path="*/systemctl"',
    )
    const events: JsonEvent[] = [
      { Image: '/usr/bin/systemctl' },
      { _logsource: { product: 'linux', category: 'file_event' }, Image: '/usr/bin/systemctl' },
    ]
    expect((await mismatches(r, events, CIM)).mismatches).toEqual([])
  })

  it('where predicates quote the dotted names', async () => {
    const r = processRule("sel:\n  CommandLine|re: 'st[o0]p'")
    expect(compileOk(r, CIM)).toBe(
      `| datamodel Endpoint Processes search | where isnotnull(mvfind('Processes.process', "st[0o]p"))`,
    )
    expect((await mismatches(r, EVENTS, CIM)).mismatches).toEqual([])
  })

  it('a field the data model lacks, or a log source with no dataset, is refused', () => {
    const hashes = processRule("sel:\n  Image|endswith: '\\sc.exe'\n  OriginalFileName: sc.exe")
    const c = backend.compile(hashes, CIM)
    expect(c.query).toBeUndefined()
    expect(c.diagnostics.map((d) => d.code)).toEqual(['target/unsupported-field'])
    expect(c.diagnostics[0]!.message).toContain('Endpoint.Processes data model has no field for it')
  })

  it('a wrong CIM field or dataset in the text fails the proof; an unmodelled field is reported', async () => {
    const query = compileOk(SC_STOP, CIM)
    const swapped = await checkQuery(
      SC_STOP,
      query.replace('Processes.process_path', 'Processes.parent_process_path'),
      EVENTS,
      verifier,
      CIM,
    )
    expect(swapped.mismatches).toEqual([0, 2])
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-cim-'))
    const wrong = join(dir, 'wrong.yml')
    writeFileSync(
      wrong,
      'variants:\n  cim:\n    logsources:\n      p:\n        match: { product: windows, category: process_creation }\n        datamodel: Network_Traffic.All_Traffic\n        fields: { Image: All_Traffic.dest_ip, CommandLine: All_Traffic.src_ip }\n',
    )
    expect((await mismatches(SC_STOP, EVENTS, { ...CIM, pipeline: wrong })).mismatches).toEqual([0, 2])
    const v = await verifier.verify('| datamodel Endpoint Processes search | search Processes.user="x"', EVENTS)
    expect(v.diagnostics.map((d) => d.message)).toEqual([
      "spl: the verifier cannot run the field Processes.user of Endpoint.Processes (not in the verifier's model)",
    ])
  })
})
