/**
 * `match --target` on real-shaped Windows events: Sysmon records (LogonId as hex text, ProcessId as
 * text) and Security records (SubjectLogonId, NewProcessId, ProcessId as hex text). A field the
 * query does not read never makes an event unrepresentable; a logon id is converted the way
 * Defender stores it (a long); every event a target's query does not read is counted on stderr
 * with its reason, and stdout stays the matches alone. In-process (no CLI spawn).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { command as matchCommand } from '../../src/cli/match.js'
import { command as testCommand } from '../../src/cli/test.js'
import { LeftOutCount } from '../../src/cli/left-out.js'

const SYSMON = {
  Channel: 'Microsoft-Windows-Sysmon/Operational',
  EventID: 1,
  Provider_Name: 'Microsoft-Windows-Sysmon',
}
const SECURITY = { Channel: 'Security', Provider_Name: 'Microsoft-Windows-Security-Auditing' }
const EVENTS = [
  {
    ...SYSMON,
    UtcTime: '2026-11-30 02:14:00.250',
    ProcessId: '4242',
    Image: 'C:\\Windows\\System32\\sc.exe',
    CommandLine: 'sc.exe stop WinDefend',
    User: 'CORP\\admin',
    LogonId: '0x529ae3',
    IntegrityLevel: 'High',
    ParentProcessId: '1234',
    ParentImage: 'C:\\Windows\\System32\\cmd.exe',
  },
  {
    ...SYSMON,
    UtcTime: '2026-11-30 02:14:01.000',
    ProcessId: '4343',
    Image: 'C:\\Windows\\System32\\net.exe',
    CommandLine: 'net stop "Windows Defender Service"',
    User: 'NT AUTHORITY\\SYSTEM',
    LogonId: '0x3e7',
    ParentProcessId: '1234',
    ParentImage: 'C:\\Windows\\System32\\cmd.exe',
  },
  {
    ...SYSMON,
    UtcTime: '2026-11-30 02:14:02.000',
    ProcessId: '5000',
    Image: 'C:\\Windows\\System32\\notepad.exe',
    CommandLine: 'notepad.exe C:\\temp\\x.txt',
    LogonId: '0x529AE3', // not how Windows writes it (upper-case hex): no Defender row stands for it
    ParentProcessId: '1234',
  },
  {
    ...SECURITY,
    EventID: 4624,
    TimeCreated: '2026-11-30T02:14:04.000Z',
    SubjectUserName: 'DC01$',
    SubjectLogonId: '0x3e7',
    TargetUserName: 'admin',
    TargetLogonId: '0x8d5e21',
    LogonType: '3',
    ProcessId: '0x0',
    IpAddress: '10.1.2.3',
    IpPort: '49712',
  },
]

const RULES: Record<string, string> = {
  'sc_stop.yml': `title: sc stop
id: 6c6e382e-599f-48e5-b691-3ea9d2ac9d1d
logsource: { category: process_creation, product: windows }
detection:
  sel:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: ' stop '
  condition: sel
`,
  'net_stop.yml': `title: net stop
id: b627589a-97b0-4a88-80d3-a4c00f8497d2
logsource: { category: process_creation, product: windows }
detection:
  sel:
    Image|endswith: ['\\net.exe', '\\net1.exe']
    CommandLine|contains: ' stop '
  condition: sel
`,
  'system_logon.yml': `title: SYSTEM logon session
id: 22222222-2222-4222-8222-222222222222
logsource: { category: process_creation, product: windows }
detection:
  sel:
    LogonId: '0x3E7'
  condition: sel
`,
}

const dir = mkdtempSync(join(tmpdir(), 'rulesmith-real-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
for (const [name, text] of Object.entries(RULES)) writeFileSync(join(dir, name), text)
const eventsFile = join(dir, 'events.jsonl')
writeFileSync(eventsFile, EVENTS.map((e) => JSON.stringify(e)).join('\n') + '\n')

async function run(
  cmd: typeof matchCommand,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c)
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c)
    return true
  })
  try {
    const code = await cmd.run(argv)
    return { code, stdout, stderr }
  } finally {
    out.mockRestore()
    err.mockRestore()
  }
}

const sorted = (s: string): string[] =>
  s
    .split('\n')
    .filter((l) => l !== '')
    .sort()

describe('match --target on real-shaped Sysmon and Security events', () => {
  it('the reference selects sc stop, net stop and the SYSTEM logon session', async () => {
    const r = await run(matchCommand, ['--events', eventsFile, dir])
    expect(sorted(r.stdout).map((l) => JSON.parse(l) as { event: number; rule: string })).toEqual([
      { rule: '22222222-2222-4222-8222-222222222222', title: 'SYSTEM logon session', event: 1 },
      { rule: '6c6e382e-599f-48e5-b691-3ea9d2ac9d1d', title: 'sc stop', event: 0 },
      { rule: 'b627589a-97b0-4a88-80d3-a4c00f8497d2', title: 'net stop', event: 1 },
    ])
  })

  it('kql (Defender): the same matches; LogonId hex text is the long Defender stores; the Security record and the upper-case hex are counted as left out', async () => {
    const ref = await run(matchCommand, ['--events', eventsFile, dir])
    const r = await run(matchCommand, ['--events', eventsFile, '--target', 'kql', dir])
    expect(sorted(r.stdout)).toEqual(sorted(ref.stdout))
    // Three rules × four events; the 4624 record lands in no Defender table (3 checks), and the
    // upper-case hex LogonId has no row only for the rule that reads LogonId (1 check).
    expect(r.stderr).toContain('rulesmith match: kql: 4 of 12 rule × event checks left out')
    expect(r.stderr).toContain('  3 lands in no table of the defender schema\n')
    expect(r.stderr).toMatch(
      / {2}1 no DeviceProcessEvents row holds it: LogonId → DeviceProcessEvents\.LogonId: hex text not in the form Windows writes is not a long\n/,
    )
  })

  for (const target of ['spl', 'eql']) {
    it(`${target}: the same matches as the reference`, async () => {
      const ref = await run(matchCommand, ['--events', eventsFile, dir])
      const r = await run(matchCommand, ['--events', eventsFile, '--target', target, dir])
      expect(sorted(r.stdout)).toEqual(sorted(ref.stdout))
    })
  }

  it("osquery: a Sysmon process start is also the row osquery's ETW table records (the reference's match); the logon record is a windows_events row, which a process_etw_events query does not read: said on stderr, never a silent no-match", async () => {
    const ref = await run(matchCommand, ['--events', eventsFile, join(dir, 'sc_stop.yml')])
    const r = await run(matchCommand, ['--events', eventsFile, '--target', 'osquery', join(dir, 'sc_stop.yml')])
    expect(r.stdout).not.toBe('')
    expect(r.stdout).toBe(ref.stdout)
    expect(r.stderr).toContain('rulesmith match: osquery: 1 of 4 rule × event checks left out')
    expect(r.stderr).toContain('  1 lands in windows_events, the query reads process_etw_events\n')
  })

  it('test prints the left-out summary per target on stderr, stdout keeps its table', async () => {
    const rule = join(dir, 'probe')
    writeFileSync(`${rule}.yml`, RULES['sc_stop.yml']!)
    writeFileSync(
      `${rule}.tests.yml`,
      `match:\n  - name: sc stop\n    event: ${JSON.stringify(EVENTS[0])}\nnomatch:\n  - name: logon\n    event: ${JSON.stringify(EVENTS[3])}\n`,
    )
    const r = await run(testCommand, ['--target', 'kql', '--quiet', `${rule}.yml`])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('rulesmith test: kql: 1 of 2 rule × event checks left out')
    expect(r.stderr).toContain('  1 lands in no table of the defender schema\n')
  })
})

describe('LeftOutCount', () => {
  it('counts by reason, most first, and says nothing when nothing was left out', () => {
    const c = new LeftOutCount()
    expect(c.summary('x')).toBe('')
    c.add([{ index: 0, reason: 'b' }], 3)
    c.add(
      [
        { index: 1, reason: 'a' },
        { index: 2, reason: 'a' },
      ],
      3,
    )
    expect(c.summary('x')).toBe(
      'x: 3 of 6 rule × event checks left out (events the query does not read, or no record of the target holds):\n  2 a\n  1 b\n',
    )
  })
})
