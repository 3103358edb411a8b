/**
 * One run for a Microsoft estate: `--variant defender,sentinel` sends each rule to the best table
 * that holds it (Defender's Device* tables first), Sentinel's WindowsEvent reads a record's data
 * fields from its EventData bag, and the proof holds there: the verifier (its own model of
 * WindowsEvent) agrees with the reference and catches a wrong key or channel. Microsoft's parser
 * binds these shapes in parser-gate.test.ts.
 */
import { describe, expect, test } from 'vitest'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { and, not, or, type Node } from '../../src/ast/nodes.js'
import type { JsonEvent, LogSource } from '../../src/rule/rule.js'
import { contains, endswith, is, match, pat, rule, PROCESS } from './helpers.js'
import { scratch, write } from '../hostile/helpers.js'
import { join } from 'node:path'

const PS_SCRIPT: LogSource = { product: 'windows', category: 'ps_script' }
const SYSTEM: LogSource = { product: 'windows', service: 'system' }
const SECURITY: LogSource = { product: 'windows', service: 'security' }
const BOTH = 'defender,sentinel'

const query = (d: Node, ls: LogSource, variant = BOTH): string => {
  const c = backend.compile(rule(d, ls), { variant })
  if (c.query === undefined) throw new Error(c.diagnostics.map((x) => x.message).join('; '))
  return c.query
}

describe('a rule goes to the best family and table that holds it', () => {
  test('process creation stays on DeviceProcessEvents; PowerShell and System go to WindowsEvent', () => {
    expect(query(endswith('Image', '\\cmd.exe'), PROCESS)).toBe('DeviceProcessEvents\n| where FileName =~ "cmd.exe"')
    expect(query(contains('ScriptBlockText', 'Invoke-Mimikatz'), PS_SCRIPT)).toBe(
      'WindowsEvent\n| where Channel in ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")\n| where EventID == 4104\n| where tostring(EventData.ScriptBlockText) contains "Invoke-Mimikatz"',
    )
    expect(query(and([is('EventID', '7045'), contains('ImagePath', 'powershell')]), SYSTEM)).toBe(
      'WindowsEvent\n| where Channel == "System"\n| where EventID == 7045 and tostring(EventData.ImagePath) contains "powershell"',
    )
    // Defender alone has no table for them: the refusal names the family that has one.
    const alone = backend.compile(rule(contains('ScriptBlockText', 'x'), PS_SCRIPT), { variant: 'defender' })
    expect(alone.diagnostics[0]!.message).toContain('--variant defender,sentinel')
  })
  test('a Security rule uses SecurityEvent columns, and WindowsEvent when SecurityEvent has no column for a field', () => {
    expect(query(is('TargetUserName', 'admin'), SECURITY)).toBe('SecurityEvent\n| where TargetUserName =~ "admin"')
    expect(query(is('CertThumbprint', '0x17'), SECURITY)).toBe(
      'WindowsEvent\n| where Channel == "Security"\n| where tostring(EventData.CertThumbprint) =~ "0x17"',
    )
  })
  test('a key of EventData tells missing from empty: null and exists compile to isnull/isnotnull', () => {
    expect(query({ kind: 'Null', field: 'param3', at: { line: 1, col: 1 } }, SYSTEM)).toBe(
      'WindowsEvent\n| where Channel == "System"\n| where isnull(EventData.param3)',
    )
  })
  test('an unknown family in the list is an error naming the known ones', () => {
    const c = backend.compile(rule(contains('CommandLine', 'x')), { variant: 'defender,nope' })
    expect(c.query).toBeUndefined()
    expect(c.diagnostics[0]!.message).toContain('kql has no schema family "nope"')
  })
})

const TEXT = ['', 'abc', 'ABC', 'xAbCx', 'a"c', 'a\\c', 'Été', 'été', '😀', 'a\nc', '4104', 'Invoke-Mimikatz', ' -enc ']
const EVENTS: JsonEvent[] = [
  {},
  { ScriptBlockText: null, Path: null },
  { ScriptBlockText: 4104 },
  { ScriptBlockText: true },
  { ScriptBlockText: ['a'] },
  ...TEXT.map((v, i) => ({ ScriptBlockText: v, Path: TEXT[(i + 3) % TEXT.length]! })),
  // The same text from other records: another event id, another channel, a Security record.
  { ScriptBlockText: 'abc', Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4103 },
  { ScriptBlockText: 'abc', Channel: 'PowerShellCore/Operational', EventID: 4104 },
  { ScriptBlockText: 'abc', Channel: 'System', EventID: 4104 },
  { ScriptBlockText: 'abc', Channel: 'Security', EventID: 4104 },
]

describe('WindowsEvent: the reference and the verifier agree, and Microsoft parser binds the query', () => {
  const detections: Array<[string, Node]> = [
    ['contains', contains('ScriptBlockText', 'abc')],
    ['exact, cased', match('ScriptBlockText', pat('abc'), true)],
    ['non-ASCII', is('ScriptBlockText', 'été')],
    ['endswith and not', and([endswith('ScriptBlockText', 'c'), not(contains('Path', 'a'))])],
    ['list', or([is('ScriptBlockText', 'abc'), is('ScriptBlockText', '4104'), is('ScriptBlockText', 'a"c')])],
    ['wildcards', match('ScriptBlockText', pat('a?c*'))],
    [
      'regex',
      { kind: 'Regex', field: 'ScriptBlockText', source: '^(?:abc|4104)$', flags: { i: true, m: false, s: false } },
    ],
    ['exists', { kind: 'Exists', field: 'Path', at: { line: 1, col: 1 } }],
    ['any value', match('Path', pat('*'))],
    ['empty value', match('Path', [])],
    ['regex matching empty', { kind: 'Regex', field: 'Path', source: '^a?', flags: { i: false, m: false, s: false } }],
    ['null', { kind: 'Null', field: 'Path', at: { line: 1, col: 1 } }],
  ]
  const queries: string[] = []
  // The combined run: WindowsEvent is the same table with Sentinel alone.
  for (const variant of [BOTH])
    test(`${variant}: ${detections.length} constructs on ${EVENTS.length} events`, async () => {
      for (const [name, d] of detections) {
        const eq = await checkEquivalence(rule(d, PS_SCRIPT), EVENTS, backend, verifier, { variant })
        expect(eq.query, name).toBeDefined()
        expect(
          eq.diagnostics.filter((x) => x.severity === 'error'),
          name,
        ).toEqual([])
        expect(eq.mismatches, `${name}: ${eq.query}`).toEqual([])
        expect(eq.actual!.some(Boolean), `${name} selects something: ${eq.query}`).toBe(true)
        queries.push(eq.query!)
      }
      // Microsoft's parser binds the same shapes in parser-gate.test.ts (one loaded instance).
      expect(queries.length).toBe(detections.length)
    })
})

describe('the proof can fail: the verifier reads the text, not the backend', () => {
  const events: JsonEvent[] = [
    { Channel: 'System', EventID: 7045, ImagePath: 'C:\\x\\powershell.exe -enc', ServiceName: 'evil' },
    { Channel: 'Application', EventID: 7045, ImagePath: 'C:\\x\\powershell.exe -enc', ServiceName: 'evil' },
  ]
  const good =
    'WindowsEvent\n| where Channel == "System"\n| where EventID == 7045 and tostring(EventData.ImagePath) contains "powershell"'
  test('the emitted query selects the System record only', async () => {
    const v = await verifier.verify(good, events, { variant: BOTH })
    expect(v.matches).toEqual([true, false])
  })
  test.each([
    ['a misspelt key', good.replace('EventData.ImagePath', 'EventData.ImagePth')],
    ['another channel', good.replace('"System"', '"Application"')],
    ['a column instead of a key', good.replace('tostring(EventData.ImagePath)', 'Provider')],
  ])('%s changes the answer', async (_name, mutated) => {
    const v = await verifier.verify(mutated, events, { variant: BOTH })
    expect(v.matches).not.toEqual([true, false])
  })
})

const AWS: LogSource = { product: 'aws', service: 'cloudtrail' }
const CLOUD_EVENTS: JsonEvent[] = [
  {},
  { eventName: 'PutBucketPolicy', eventSource: 's3.amazonaws.com' },
  { eventName: 'putbucketpolicy', 'requestParameters.bucketName': 'x' },
  { eventName: 'PutBucketPolicy', requestParameters: { bucketName: 'secret-x', policy: { a: 1 } } },
  { eventName: 'PutBucketPolicy', 'requestParameters.bucketName': 'Secret-Y', 'userIdentity.type': 'Root' },
  { eventName: 'PutBucketPolicy', requestParameters: { bucketName: 7 } },
  { eventName: 'PutBucketPolicy', 'responseElements.ConsoleLogin': 'Failure' },
  { eventName: 'PutBucketPolicy', userIdentity: { type: 'Root' } },
]

describe('cloud tables: AWSCloudTrail keeps requestParameters as JSON text', () => {
  test('columns for the flat fields, parse_json for the nested ones', () => {
    expect(
      query(and([is('eventName', 'PutBucketPolicy'), contains('requestParameters.bucketName', 'secret')]), AWS),
    ).toBe(
      'AWSCloudTrail\n| where EventName =~ "PutBucketPolicy" and tostring(parse_json(RequestParameters).bucketName) contains "secret"',
    )
  })
  test('the reference and the verifier agree on nested and flat spellings of the same record', async () => {
    const detections: Node[] = [
      and([is('eventName', 'PutBucketPolicy'), contains('requestParameters.bucketName', 'secret')]),
      or([is('userIdentity.type', 'Root'), is('responseElements.ConsoleLogin', 'Failure')]),
      and([is('eventName', 'PutBucketPolicy'), not(is('requestParameters.bucketName', '7'))]),
    ]
    for (const d of detections) {
      const eq = await checkEquivalence(rule(d, AWS), CLOUD_EVENTS, backend, verifier, { variant: BOTH })
      expect(eq.query).toBeDefined()
      expect(eq.mismatches, eq.query).toEqual([])
      expect(eq.actual!.some(Boolean), eq.query).toBe(true)
    }
    // A key the record does not have, misspelt in the query, selects nothing the rule selects.
    const good = query(contains('requestParameters.bucketName', 'secret'), AWS)
    const v = await verifier.verify(good.replace('.bucketName', '.bucketname'), CLOUD_EVENTS, { variant: BOTH })
    expect(v.matches!.some(Boolean)).toBe(false)
  })
})

describe('asim: the normalised parsers as their own family', () => {
  test('process creation reads _Im_ProcessCreate, a proxy rule _Im_WebSession', async () => {
    const q = query(and([endswith('Image', '\\cmd.exe'), contains('CommandLine', '/c')]), PROCESS, 'asim')
    expect(q).toBe(
      '_Im_ProcessCreate\n| where TargetProcessName endswith @"\\cmd.exe" and TargetProcessCommandLine contains "/c"',
    )
    expect(query(contains('c-useragent', 'curl'), { category: 'proxy' }, 'asim')).toBe(
      '_Im_WebSession\n| where HttpUserAgent contains "curl"',
    )
    // With Defender listed too, process creation stays on DeviceProcessEvents.
    expect(query(contains('CommandLine', '/c'), PROCESS, 'defender,sentinel,asim')).toContain('DeviceProcessEvents')
    const eq = await checkEquivalence(
      rule(and([endswith('Image', '\\cmd.exe'), contains('CommandLine', '/c')])),
      [
        { Image: 'C:\\Windows\\cmd.exe', CommandLine: 'cmd /c x' },
        { Image: 'C:\\Windows\\cmd.exe', CommandLine: 'cmd /k x' },
        {
          Image: 'C:\\Windows\\cmd.exe',
          CommandLine: 'cmd /c x',
          _logsource: { product: 'windows', category: 'file_event' },
        },
      ],
      backend,
      verifier,
      { variant: 'asim' },
    )
    expect(eq.mismatches).toEqual([])
    expect(eq.actual).toEqual([true, false, false])
  })
})

describe('AKSAudit: Kubernetes objects as dynamic columns', () => {
  test('objectRef keys are read from the ObjectRef column, and the verifier agrees', async () => {
    const k8s: LogSource = { product: 'kubernetes', service: 'audit' }
    const d = and([is('verb', 'create'), is('objectRef.resource', 'pods'), match('objectRef.subresource', pat('*'))])
    expect(query(d, k8s)).toBe(
      'AKSAudit\n| where Verb =~ "create" and tostring(ObjectRef.resource) =~ "pods" and isnotnull(ObjectRef.subresource)',
    )
    const events: JsonEvent[] = [
      { verb: 'create', objectRef: { resource: 'pods', subresource: 'exec' } },
      { verb: 'create', 'objectRef.resource': 'pods', 'objectRef.subresource': '' },
      { verb: 'create', 'objectRef.resource': 'pods' },
      { verb: 'get', 'objectRef.resource': 'pods', 'objectRef.subresource': 'exec' },
      { verb: 'create', 'objectRef.resource': 'PODS', 'objectRef.subresource': 'exec' },
    ]
    const eq = await checkEquivalence(rule(d, k8s), events, backend, verifier, { variant: BOTH })
    expect(eq.mismatches, eq.query).toEqual([])
    expect(eq.actual).toEqual([true, true, false, false, true])
  })
})

describe('Corelight: Zeek logs, one Corelight_v3 table per log', () => {
  const DNS: LogSource = { product: 'zeek', service: 'dns' }
  const SMB: LogSource = { product: 'zeek', service: 'smb_files' }
  const d = and([
    endswith('query', '.xmrpool.net'),
    not(is('qtype_name', 'ns')),
    { kind: 'Compare', field: 'id.resp_p', op: 'lt', value: 1024 },
  ])
  const events: JsonEvent[] = [
    { query: 'a.xmrpool.net', qtype_name: 'A', id: { orig_h: '10.0.0.1', resp_p: 53 } },
    { query: 'A.XMRPOOL.NET', qtype_name: 'AAAA', 'id.resp_p': 53 },
    { query: 'a.xmrpool.net', qtype_name: 'NS', 'id.resp_p': 53 },
    { query: 'a.xmrpool.net', qtype_name: 'A', 'id.resp_p': 5353 },
    { query: 'a.xmrpool.net', qtype_name: 'A' },
    { query: 'xmrpool.net.evil', qtype_name: 'A', 'id.resp_p': 53 },
    // The same fields in Zeek's http log land in another table.
    { query: 'a.xmrpool.net', 'id.resp_p': 53, _logsource: { product: 'zeek', service: 'http' } },
  ]
  test('Zeek field names with _ for . are the columns; the proof holds and can fail', async () => {
    const q = query(d, DNS, 'defender,sentinel,asim')
    expect(q).toBe(
      'Corelight_v3_dns_CL\n| where query endswith ".xmrpool.net" and not(qtype_name =~ "ns") and (isnotnull(id_resp_p) and id_resp_p < 1024)',
    )
    const eq = await checkEquivalence(rule(d, DNS), events, backend, verifier, { variant: BOTH })
    expect(eq.mismatches, eq.query).toEqual([])
    expect(eq.actual).toEqual([true, true, false, false, false, false, false])
    for (const mutated of [
      q.replace('Corelight_v3_dns_CL', 'Corelight_v3_http_CL'),
      q.replace('id_resp_p < 1024', 'id_orig_p < 1024'),
      q.replace('not(qtype_name =~ "ns")', 'not(qtype_name == "ns")'),
    ]) {
      const v = await verifier.verify(mutated, events, { variant: BOTH })
      expect(v.matches, mutated).not.toEqual(eq.actual)
    }
  })
  test('a field map sending a Zeek field to the wrong column fails the proof: the verifier names the columns itself', async () => {
    const pipeline = write(
      join(scratch(), 'zeek.yml'),
      'variant: sentinel\nlogsources:\n  zeek-dns:\n    match: { product: zeek, service: dns }\n    table: Corelight_v3_dns_CL\n    fields: { id.resp_p: id_orig_p }\n',
    )
    const options = { variant: 'sentinel', pipeline }
    const wrong: JsonEvent[] = [
      { query: 'a.xmrpool.net', 'id.orig_p': 53, 'id.resp_p': 5353 },
      { query: 'a.xmrpool.net', id: { orig_p: 5353, resp_p: 53 } },
    ]
    const eq = await checkEquivalence(rule(is('id.resp_p', '53'), DNS), wrong, backend, verifier, options)
    expect(eq.query).toBe('Corelight_v3_dns_CL\n| where id_orig_p == 53')
    expect(eq.mismatches.length).toBe(2)
  })
  test("Sigma's path is not the column that holds Zeek's _path, and smb_files' path column is left out", () => {
    for (const ls of [DNS, SMB]) {
      const c = backend.compile(rule(is('path', '\\\\srv\\IPC$'), ls), { variant: BOTH })
      expect(c.query).toBeUndefined()
      expect(c.diagnostics[0]!.code).toBe('target/unknown-field')
    }
    expect(query(endswith('name', '.kirbi'), SMB)).toBe('Corelight_v3_smb_files_CL\n| where name endswith ".kirbi"')
  })
})

describe("a query over Sentinel's 10,000 characters reads each EventData key once, through extend", () => {
  const names = Array.from({ length: 200 }, (_, i) => `Invoke-Thing${String(i).padStart(4, '0')}`)
  const d = or(names.map((n) => contains('ScriptBlockText', n)))
  const events: JsonEvent[] = [
    { Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4104, ScriptBlockText: 'x; invoke-thing0007 -a' },
    { Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4104, ScriptBlockText: 'Invoke-Thing0200' },
    { Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4104, Path: 'Invoke-Thing0001' },
    { Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4104 },
    { Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4103, ScriptBlockText: 'Invoke-Thing0001' },
    { Channel: 'PowerShellCore/Operational', EventID: 4104, ScriptBlockText: 'Invoke-Thing0199', Path: 'p' },
  ]
  test('the same rows as the long form: the proof holds, and a wrong key in the extend fails it', async () => {
    const q = query(d, PS_SCRIPT)
    expect(q).toContain(
      '\n| extend ScriptBlockText = tostring(EventData.ScriptBlockText)\n| where (ScriptBlockText contains',
    )
    expect(q).not.toContain('tostring(EventData.ScriptBlockText) contains')
    expect(q.length).toBeLessThan(10_000)
    const eq = await checkEquivalence(rule(d, PS_SCRIPT), events, backend, verifier, { variant: BOTH })
    expect(eq.mismatches, eq.query).toEqual([])
    expect(eq.actual).toEqual([true, false, false, false, false, true])
    const v = await verifier.verify(
      q.replace('tostring(EventData.ScriptBlockText)', 'tostring(EventData.Path)'),
      events,
      {
        variant: BOTH,
      },
    )
    expect(v.matches).not.toEqual(eq.actual)
  })
  test('a rule whose key needs the bag (isnull, exists) keeps the long form; an extend replacing a column is not verified', async () => {
    const withExists = and([{ kind: 'Exists', field: 'ScriptBlockText', at: { line: 1, col: 1 } }, d])
    const q = query(withExists, PS_SCRIPT)
    expect(q).not.toContain('| extend')
    expect(q).toContain('isnotnull(EventData.ScriptBlockText)')
    const v = await verifier.verify(
      'WindowsEvent\n| extend Channel = tostring(EventData.X)\n| where Channel == "a"',
      events,
      {
        variant: BOTH,
      },
    )
    expect(v.matches).toBeUndefined()
    expect(v.diagnostics[0]!.message).toContain('replaces a column')
  })
})

describe('ASIM: the parsers write EventType themselves', () => {
  test("a Sysmon registry record's own EventType (SetValue) does not reach _Im_RegistryEvent's EventType column", async () => {
    const ls: LogSource = { product: 'windows', category: 'registry_set' }
    const detection = and([endswith('TargetObject', '\\Services\\VSS\\Start'), is('Details', 'DWORD (0x00000004)')])
    const events: JsonEvent[] = [
      {
        EventType: 'SetValue',
        TargetObject: 'HKLM\\System\\CurrentControlSet\\Services\\VSS\\Start',
        Details: 'DWORD (0x00000004)',
      },
      {
        EventType: 'SetValue',
        TargetObject: 'HKLM\\System\\CurrentControlSet\\Services\\VSS\\Start',
        Details: 'DWORD (0x00000003)',
      },
    ]
    const eq = await checkEquivalence(rule(detection, ls), events, backend, verifier, { variant: 'asim' })
    expect(eq.query).toMatch(/^_Im_RegistryEvent\n\| where EventType == "RegistryValueSet"/)
    expect(eq.expected).toEqual([true, false])
    expect(eq.mismatches).toEqual([])
  })
})
