/**
 * Issue 14's log sources (targets/eql/target.yml): Sysmon's WMI and status events, Windows file
 * renames through Elastic Defend, FortiOS event logs, Duo authentication logs and DNS transactions
 * through the network_traffic integration. Each is proven on events, and a query with a wrong
 * field, a missing pin or a wrong event id fails the proof.
 */
import { describe, expect, it } from 'vitest'
import { withOrigin } from '../../src/origin.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { eql, expectEquivalent, sigma } from './helpers.js'

const SYSMON = 'Microsoft-Windows-Sysmon/Operational'

describe('eql: Sysmon WMI events (wmi_event) and status (sysmon_status)', () => {
  const rule = sigma(
    "  sel:\n    Destination|contains: 'net.webclient'\n  condition: sel",
    'product: windows\n  category: wmi_event',
  )
  const events = [
    { Channel: SYSMON, EventID: 20, Destination: 'powershell -c (new-object net.webclient).downloadstring(1)' },
    { Channel: SYSMON, EventID: 20, Destination: 'calc.exe' },
    { Channel: SYSMON, EventID: 1, Image: 'C:\\net.webclient\\x.exe' },
  ]

  it('the consumer’s Destination is process.executable (the Sysmon pipelines rename it); channel and event ids pin the records', async () => {
    expect(eql(rule)).toBe(
      'any where winlog.channel == "Microsoft-Windows-Sysmon/Operational" and winlog.event_id in ("19", "20", "21") and process.executable : "*net.webclient*"',
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, false, false])
  })

  it('a query reading Destination under winlog.event_data, or without the event ids, fails the proof', async () => {
    const raw = eql(rule).replace('process.executable', '?winlog.event_data.Destination')
    expect((await checkQuery(rule, raw, events, verifier)).mismatches).toEqual([0])
    const noIds = eql(rule).replace(' and winlog.event_id in ("19", "20", "21")', '')
    expect((await checkQuery(rule, noIds, events, verifier)).mismatches).toEqual([2])
  })

  it('sysmon_status: events 4 and 16', async () => {
    const status = sigma('  sel:\n    State: Stopped\n  condition: sel', 'product: windows\n  category: sysmon_status')
    expect(eql(status)).toContain('winlog.event_id in ("4", "16")')
    expect(
      await expectEquivalent(status, [
        { Channel: SYSMON, EventID: 4, State: 'Stopped' },
        { Channel: SYSMON, EventID: 16, State: 'Stopped' },
        { Channel: SYSMON, EventID: 5, State: 'Stopped' },
      ]),
    ).toEqual([true, true, false])
  })
})

describe('eql: Windows file renames through Elastic Defend', () => {
  const rule = sigma(
    "  sel:\n    SourceFilename|endswith: '.docx'\n    TargetFilename|endswith: '.docx.lock'\n  condition: sel",
    'product: windows\n  category: file_rename',
  )
  const events = [
    { SourceFilename: 'C:\\u\\a.docx', TargetFilename: 'C:\\u\\a.docx.lock' },
    { SourceFilename: 'C:\\u\\a.docx.lock', TargetFilename: 'C:\\u\\a.docx' },
    { SourceFilename: 'C:\\u\\a.txt', TargetFilename: 'C:\\u\\a.docx.lock' },
  ]

  it('the old path is file.Ext.original.path, the new one file.path; a rename is event.action rename', async () => {
    expect(eql(rule)).toBe(
      'file where event.action == "rename" and file.Ext.original.path : "*.docx" and file.path : "*.docx.lock"',
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, false, false])
  })

  it('a query reading the old path from file.path, or pinning another action, fails the proof', async () => {
    const swapped = eql(rule).replace('file.Ext.original.path : "*.docx"', 'file.path : "*.docx"')
    expect((await checkQuery(rule, swapped, events, verifier)).mismatches).toEqual([0])
    const modified = eql(rule).replace('"rename"', '"modification"')
    expect((await checkQuery(rule, modified, events, verifier)).mismatches).toEqual([0])
  })
})

describe('eql: FortiOS event logs through the fortinet_fortigate integration', () => {
  const LS = 'product: fortigate\n  service: event'
  const rule = sigma("  sel:\n    action: Add\n    cfgpath: 'system.admin'\n  condition: sel", LS)
  const events = [
    { action: 'Add', cfgpath: 'system.admin' },
    { action: 'Edit', cfgpath: 'system.admin' },
    { action: 'Add', cfgpath: 'firewall.policy' },
  ]

  it('keys the pipeline keeps under fortinet.firewall; dataset and log type pinned', async () => {
    expect(eql(rule)).toBe(
      'any where event.dataset == "fortinet_fortigate.log" and fortinet.firewall.type == "event" and fortinet.firewall.action : "Add" and fortinet.firewall.cfgpath : "system.admin"',
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, false, false])
    const wrong = eql(rule).replace('fortinet.firewall.action', 'event.action')
    expect((await checkQuery(rule, wrong, events, verifier)).mismatches).toEqual([0])
  })

  it('values the pipeline drops or cannot carry are left out; keys it renames are refused', async () => {
    const v = await verifier.verify(
      eql(rule),
      withOrigin(
        [{ action: 'N/A', cfgpath: 'system.admin' }, { action: 'A"dd', cfgpath: 'system.admin' }, ...events],
        rule.logsource,
      ),
    )
    expect(v.unrepresentable).toEqual([0, 1])
    const srcip = backend.compile(sigma('  sel:\n    srcip: 10.0.0.1\n  condition: sel', LS))
    expect(srcip.diagnostics.map((d) => d.code)).toEqual(['target/unknown-field'])
  })
})

describe('eql: Duo authentication logs through the cisco_duo integration', () => {
  const rule = sigma(
    '  sel:\n    event_type: authentication\n    reason: bypass_user\n  condition: sel',
    'product: cisco\n  service: duo',
  )
  const events = [
    { event_type: 'authentication', reason: 'bypass_user', result: 'success' },
    { event_type: 'authentication', reason: 'user_approved', result: 'bypass_user' },
  ]

  it('json keys under cisco_duo.auth; a query on the wrong key fails the proof', async () => {
    expect(eql(rule)).toBe(
      'any where event.dataset == "cisco_duo.auth" and cisco_duo.auth.event_type : "authentication" and cisco_duo.auth.reason : "bypass_user"',
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, false])
    const wrong = eql(rule).replace('cisco_duo.auth.reason', 'cisco_duo.auth.result')
    expect((await checkQuery(rule, wrong, events, verifier)).mismatches).toEqual([0, 1])
  })
})

describe('eql: category dns through the network_traffic integration', () => {
  const rule = sigma("  sel:\n    query|endswith: '.oast.fun'\n  condition: sel", 'category: dns')
  const events = [
    { query: 'abc.oast.fun' },
    { query: 'abc.oast.fun.example' },
    { QueryName: 'abc.oast.fun', _logsource: { product: 'windows', category: 'dns_query' } },
  ]

  it('query → dns.question.name in network_traffic.dns; without the dataset pin a Sysmon DNS query is selected', async () => {
    expect(eql(rule)).toBe('network where event.dataset == "network_traffic.dns" and dns.question.name : "*.oast.fun"')
    expect(await expectEquivalent(rule, events)).toEqual([true, false, false])
    const unpinned = eql(rule).replace('event.dataset == "network_traffic.dns" and ', '')
    expect((await checkQuery(rule, unpinned, events, verifier)).mismatches).toEqual([2])
  })

  it('answer and record_type; names Packetbeat escapes or trims are left out', async () => {
    const txt = sigma('  sel:\n    record_type: TXT\n    answer|contains: IEX\n  condition: sel', 'category: dns')
    expect(eql(txt)).toBe(
      'network where event.dataset == "network_traffic.dns" and dns.question.type : "TXT" and dns.answers.data : "*IEX*"',
    )
    expect(
      await expectEquivalent(txt, [
        { record_type: 'TXT', answer: ['v=spf1', 'IEX(New-Object x)'] },
        { record_type: 'A', answer: 'IEX' },
      ]),
    ).toEqual([true, false])
    const v = await verifier.verify(
      eql(rule),
      withOrigin([{ query: 'abc.oast.fun.' }, { query: 'abç.oast.fun' }, { query: 'abc.oast.fun' }], rule.logsource),
    )
    expect(v.unrepresentable).toEqual([0, 1])
  })
})
