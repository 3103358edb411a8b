/**
 * Keywords on Syslog and tests of a column the log source pins. A Syslog line has no fields but the
 * table's record columns, so a keyword searches them all (the log source's `keywords`); the
 * verifier's own model of the line (SYSLOG_RECORD in src/verify/kql-events.ts) makes an event with
 * any other field unrepresentable. WindowsEvent's Channel is the record's own: a rule may test it
 * next to the pin, and an event spelling the channel otherwise is no record of it.
 */
import { describe, expect, test } from 'vitest'
import { join } from 'node:path'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { and, not, or, type Node } from '../../src/ast/nodes.js'
import type { JsonEvent, LogSource } from '../../src/rule/rule.js'
import { contains, is, match, pat, rule } from './helpers.js'
import { scratch, write } from '../hostile/helpers.js'

const LINUX: LogSource = { product: 'linux' }
const SYSLOG: LogSource = { product: 'linux', service: 'syslog' }
const SYSTEM: LogSource = { product: 'windows', service: 'system' }
const ALL = 'defender,sentinel,asim'

const keyword = (sigma: string, cased = false): Node => ({
  kind: 'Keyword',
  pattern: [{ kind: 'any' }, ...pat(sigma), { kind: 'any' }],
  cased,
  at: { line: 5, col: 4 },
})

const COLUMNS = 'SyslogMessage, ProcessName, Facility, SeverityLevel, HostName, Computer, HostIP'
const KEYWORD_EVENTS: JsonEvent[] = [
  {},
  { Message: 'ln -s /etc/passwd x' },
  { Message: 'LN -S /ETC/PASSWD' },
  { Message: 'ln -s /etc/passw' },
  { ProcessName: 'x ln -s /etc/passwd' },
  { Facility: 'ln -s /etc/passwd' },
  { SeverityLevel: 'ln -s /etc/passwd' },
  { HostName: 'ln -s /etc/passwd' },
  { Computer: 'ln -s /etc/passwd' },
  { HostIP: 'ln -s /etc/passwd' },
  { Message: 'nc -e /bin/sh ', ProcessID: 7 },
  { Message: 'nothing', ProcessID: '12' },
  { Message: null, ProcessName: 'sshd' },
  { Message: 'cat /etc/passwd', ProcessName: 'SSHD' },
  // Not a Syslog line: a field the table has no column for, or two fields for one column.
  { Message: 'ok', Extra: 'ln -s /etc/passwd' },
  { Message: 'ok', SyslogMessage: 'ln -s /etc/passwd' },
  // Another log source's record.
  { query: 'ln -s /etc/passwd', _logsource: { product: 'zeek', service: 'dns' } },
]

describe('Syslog: a keyword searches every column a line has', () => {
  test('product linux with no category or service reads Syslog; with a category it does not', () => {
    const c = backend.compile(rule(keyword('ln -s /etc/passwd'), LINUX), { variant: ALL })
    expect(c.query).toBe(
      `Syslog\n| where (${COLUMNS.split(', ')
        .map((col) => `${col} contains "ln -s /etc/passwd"`)
        .join(' or ')})`,
    )
    const processes = backend.compile(rule(keyword('x y'), { product: 'linux', category: 'process_creation' }), {
      variant: 'sentinel',
    })
    expect(processes.query).toBeUndefined()
    expect(processes.diagnostics[0]!.code).toBe('target/unsupported-logsource')
  })
  test('the reference and the verifier agree; lines with other fields are unrepresentable', async () => {
    const detections: Node[] = [
      keyword('ln -s /etc/passwd'),
      keyword('ln -s /etc/passwd', true),
      and([or([keyword('nc -e '), keyword('ln -s')]), not(keyword('passw'))]),
      and([keyword('/etc/*wd'), is('ProcessName', 'sshd')]),
      keyword('Sshd'),
    ]
    for (const ls of [LINUX, SYSLOG])
      for (const d of detections) {
        const eq = await checkEquivalence(rule(d, ls), KEYWORD_EVENTS, backend, verifier, { variant: ALL })
        expect(eq.query).toBeDefined()
        expect(eq.mismatches, eq.query).toEqual([])
        expect(eq.actual!.some(Boolean), eq.query).toBe(true)
        expect(eq.unrepresentable.length).toBe(2)
      }
  })
  test('a keyword list that leaves out a column fails the proof', async () => {
    const pipeline = write(
      join(scratch(), 'syslog.yml'),
      `variant: sentinel\nlogsources:\n  linux:\n    match: { product: linux, category: '', service: '' }\n    table: Syslog\n    fields: { Message: SyslogMessage, ProcessName: ProcessName, Facility: Facility }\n    keywords: [SyslogMessage, ProcessName, Facility, SeverityLevel, HostName, HostIP]\n`,
    )
    const eq = await checkEquivalence(rule(keyword('ln -s /etc/passwd'), LINUX), KEYWORD_EVENTS, backend, verifier, {
      variant: 'sentinel',
      pipeline,
    })
    expect(eq.query).not.toContain('Computer')
    expect(eq.mismatches).toEqual([8])
  })
  test('a keyword a number or boolean could match, and keywords on other tables, are refused', () => {
    for (const k of ['4104', '1.5e', 'TRU', 'alse']) {
      const c = backend.compile(rule(keyword(k), LINUX), { variant: ALL })
      expect(c.query, k).toBeUndefined()
      expect(c.diagnostics[0]!.message).toContain('the text of a number or a boolean')
    }
    expect(backend.compile(rule(keyword('AAAA'), LINUX), { variant: ALL }).query).toBeDefined()
    const windows = backend.compile(rule(keyword('Set-OabVirtualDirectory'), SYSTEM), { variant: ALL })
    expect(windows.diagnostics[0]!.code).toBe('target/unsupported-keyword')
  })
})

describe('WindowsEvent: the record states its Channel, so a rule may test it', () => {
  const EVENTS: JsonEvent[] = [
    { EventID: 104, Provider_Name: 'Microsoft-Windows-Eventlog' },
    { EventID: 104, Provider_Name: 'Microsoft-Windows-Eventlog', Channel: 'System' },
    { EventID: 104, Provider_Name: 'Microsoft-Windows-Eventlog', Channel: 'Application' },
    { EventID: 104, Provider_Name: 'Microsoft-Windows-Eventlog', Channel: 'sYSTEM' },
    { EventID: 104, Provider_Name: 'Microsoft-Windows-Eventlog', Channel: '', _logsource: SYSTEM },
    { EventID: 105, Channel: 'System' },
  ]
  const cleared = (channels: string[]): Node => and([is('EventID', '104'), or(channels.map((c) => is('Channel', c)))])
  test('a test of Channel next to the pin compiles and agrees with the reference', async () => {
    for (const d of [cleared(['System', 'Security']), cleared(['Security']), not(cleared(['System']))]) {
      const eq = await checkEquivalence(rule(d, SYSTEM), EVENTS, backend, verifier, { variant: ALL })
      expect(eq.query).toContain('| where Channel == "System"\n')
      expect(eq.mismatches, eq.query).toEqual([])
      // sYSTEM and an empty Channel are no System record.
      expect(eq.unrepresentable).toEqual([3, 4])
    }
  })
  test('a column the kind of record decides stays refused, and so does one a pipeline does not mark as stated', () => {
    // SecurityEvent's EventID is 4688 and Sysmon's WindowsEvent row 1 whatever the event says.
    const fixed = backend.compile(rule(is('EventID', '1')), { variant: 'sentinel' })
    expect(fixed.query).toBeUndefined()
    expect(fixed.diagnostics[0]!.code).toBe('target/unsupported-field')
    const pipeline = write(
      join(scratch(), 'system.yml'),
      `variant: sentinel\nlogsources:\n  windows-system:\n    match: { product: windows, service: system }\n    table: WindowsEvent\n    conditions: { Channel: System }\n    bags: { '*': EventData }\n    fields: { Channel: Channel, EventID: EventID }\n`,
    )
    const c = backend.compile(rule(contains('Channel', 'Sys'), SYSTEM), { variant: 'sentinel', pipeline })
    expect(c.diagnostics[0]!.code).toBe('target/unsupported-field')
  })
  test('the verifier holds a record to its channel: dropping the pin fails the proof', async () => {
    const good = backend.compile(rule(cleared(['System', 'Security']), SYSTEM), { variant: ALL }).query!
    const v = await verifier.verify(
      good.replace('| where Channel == "System"\n', ''),
      [{ EventID: 104, Channel: 'Security' }],
      { variant: ALL },
    )
    expect(v.matches).toEqual([true])
    const eq = await checkEquivalence(
      rule(cleared(['System', 'Security']), SYSTEM),
      [{ EventID: 104, Channel: 'Security' }],
      backend,
      verifier,
      { variant: ALL },
    )
    expect(eq.actual).toEqual([false])
    expect(eq.expected).toEqual([false])
  })
})

describe('asim: a file opened for reading is the File Event schema FileAccessed', () => {
  const ACCESS: LogSource = { product: 'windows', category: 'file_access' }
  const EVENTS: JsonEvent[] = [
    { FileName: 'C:\\Users\\a\\AppData\\Roaming\\Microsoft\\Protect\\x', Image: 'C:\\Windows\\System32\\rundll32.exe' },
    { FileName: 'C:\\Users\\a\\AppData\\Roaming\\Microsoft\\Protect\\x', Image: 'C:\\Windows\\explorer.exe' },
    { FileName: 'C:\\Users\\a\\Documents\\x', Image: 'C:\\Windows\\System32\\rundll32.exe' },
    // The same path created, not read.
    {
      TargetFilename: 'C:\\Users\\a\\AppData\\Roaming\\Microsoft\\Protect\\x',
      Image: 'C:\\Windows\\System32\\rundll32.exe',
      _logsource: { product: 'windows', category: 'file_event' },
    },
  ]
  const d = and([contains('FileName', '\\Microsoft\\Protect\\'), not(contains('Image', '\\explorer.exe'))])
  test('FileName is TargetFilePath under EventType FileAccessed; the proof holds and a wrong EventType fails it', async () => {
    const eq = await checkEquivalence(rule(d, ACCESS), EVENTS, backend, verifier, { variant: ALL })
    expect(eq.query).toBe(
      '_Im_FileEvent\n| where EventType == "FileAccessed"\n| where TargetFilePath contains @"\\Microsoft\\Protect\\" and not(ActingProcessName contains @"\\explorer.exe")',
    )
    expect(eq.mismatches).toEqual([])
    expect(eq.actual).toEqual([true, false, false, false])
    const v = await verifier.verify(eq.query!.replace('"FileAccessed"', '"FileCreated"'), EVENTS, { variant: ALL })
    expect(v.matches).not.toEqual(eq.actual)
  })
})

describe('W3CIISLog: a web server access-log line is its W3C fields', () => {
  const WEB: LogSource = { category: 'webserver' }
  const EVENTS: JsonEvent[] = [
    {},
    { 'cs-method': 'GET', 'cs-uri-query': 'a=${jndi:ldap://x}', 'sc-status': 200 },
    { 'cs-method': 'POST', 'cs-uri-query': 'a=${JNDI:ldap://x}' },
    { 'cs-method': 'GET', 'cs-uri-stem': '/${jndi:ldap://x}', 'cs-uri-query': '-' },
    { 'cs-method': 'GET', 'cs-user-agent': 'Mozilla/5.0+${jndi:ldap://x}' },
    { 'cs-method': 'GET', 'cs-referer': 'http://x/${jndi:dns://y}', 'sc-status': '404' },
    { 'cs-method': 'GET', 'cs-uri-query': 'jndi' },
    // Not an IIS line: the collecting agent's host is no W3C field, and two names for one field.
    { 'cs-method': 'GET', Computer: '${jndi:ldap://x}' },
    { 'cs-user-agent': 'a', 'cs(User-Agent)': '${jndi:ldap://x}' },
  ]
  const d = and([keyword('${jndi:'), is('cs-method', 'GET')])
  test('the W3C names are the columns, a keyword searches the text columns, and the proof holds', async () => {
    const eq = await checkEquivalence(rule(d, WEB), EVENTS, backend, verifier, { variant: ALL })
    expect(eq.query).toMatch(/^W3CIISLog\n\| where \(sSiteName contains "\$\{jndi:" or .*csUriQuery contains/)
    expect(eq.mismatches).toEqual([])
    expect(eq.actual).toEqual([false, true, false, true, true, true, false, false, false])
    expect(eq.unrepresentable).toEqual([7, 8])
    const status = await checkEquivalence(rule(is('sc-status', '404'), WEB), EVENTS, backend, verifier, {
      variant: ALL,
    })
    expect(status.query).toBe('W3CIISLog\n| where scStatus =~ "404"')
    expect(status.mismatches).toEqual([])
  })
  test('a keyword list that leaves out the user agent fails the proof', async () => {
    const pipeline = write(
      join(scratch(), 'iis.yml'),
      `variant: sentinel\nlogsources:\n  webserver:\n    match: { category: webserver }\n    table: W3CIISLog\n    fields: { cs-method: csMethod, cs-uri-query: csUriQuery, cs-user-agent: csUserAgent }\n    keywords: [csUriQuery, csUriStem, csReferer]\n`,
    )
    const eq = await checkEquivalence(rule(d, WEB), EVENTS, backend, verifier, { variant: 'sentinel', pipeline })
    expect(eq.mismatches).toEqual([4])
  })
})

describe('Defender: an antivirus detection is DeviceEvents AntivirusDetection, its threat name a key of AdditionalFields', () => {
  const AV: LogSource = { category: 'antivirus' }
  const EVENTS: JsonEvent[] = [
    {},
    { Signature: 'HackTool:Win32/Mimikatz.D', Filename: 'C:\\Users\\Public\\m.exe' },
    { Signature: 'hacktool:win32/MIMIKATZ', Filename: 'C:\\Windows\\Temp\\x' },
    { Signature: 'Trojan:Win32/Wacatac', Filename: 'C:\\Users\\Public\\w.exe' },
    { Signature: null, Filename: 'C:\\Users\\Public\\n.exe' },
    { Signature: ['Mimikatz'] },
    { Signature: 'Mimikatz', _logsource: { product: 'windows', category: 'process_creation' } },
  ]
  const d = and([contains('Signature', 'Mimikatz'), contains('Filename', '\\Users\\Public\\')])
  test('Signature is tostring(AdditionalFields.ThreatName), Filename is FolderPath; the proof holds', async () => {
    const eq = await checkEquivalence(rule(d, AV), EVENTS, backend, verifier, { variant: ALL })
    expect(eq.query).toBe(
      'DeviceEvents\n| where ActionType == "AntivirusDetection"\n| where tostring(AdditionalFields.ThreatName) contains "Mimikatz" and FolderPath contains @"\\Users\\Public\\"',
    )
    expect(eq.mismatches).toEqual([])
    expect(eq.actual).toEqual([false, true, false, false, false, false, false])
    expect(eq.unrepresentable).toEqual([5])
  })
  test('the verifier names the key itself: a field map reading another key fails the proof', async () => {
    const pipeline = write(
      join(scratch(), 'av.yml'),
      `variant: defender\nlogsources:\n  antivirus:\n    match: { category: antivirus }\n    table: DeviceEvents\n    conditions: { ActionType: AntivirusDetection }\n    fields:\n      Signature: { column: AdditionalFields, key: threatName }\n      Filename: FolderPath\n`,
    )
    const eq = await checkEquivalence(rule(d, AV), EVENTS, backend, verifier, { variant: 'defender', pipeline })
    expect(eq.query).toContain('AdditionalFields.threatName')
    expect(eq.mismatches).toEqual([1])
  })
})

describe("SigninLogs: DeviceDetail is Graph's deviceDetail object in a dynamic column", () => {
  const SIGNIN: LogSource = { product: 'azure', service: 'signinlogs' }
  test('DeviceDetail.isCompliant reads the key, booleans as their text; an empty deviceId is a present empty key', async () => {
    const events: JsonEvent[] = [
      {},
      { DeviceDetail: { isCompliant: false } },
      { DeviceDetail: { isCompliant: 'False' } },
      { 'DeviceDetail.isCompliant': true },
      { DeviceDetail: { deviceId: '' } },
      { DeviceDetail: { deviceId: 'd-1', isCompliant: 'false' } },
    ]
    const compliant = await checkEquivalence(
      rule(is('DeviceDetail.isCompliant', 'false'), SIGNIN),
      events,
      backend,
      verifier,
      {
        variant: ALL,
      },
    )
    expect(compliant.query).toBe('SigninLogs\n| where tostring(DeviceDetail.isCompliant) =~ "false"')
    expect(compliant.mismatches).toEqual([])
    expect(compliant.actual).toEqual([false, true, true, false, false, true])
    const empty = await checkEquivalence(rule(is('DeviceDetail.deviceId', ''), SIGNIN), events, backend, verifier, {
      variant: ALL,
    })
    expect(empty.mismatches).toEqual([])
    expect(empty.actual).toEqual([false, false, false, false, true, false])
  })
})

describe("Okta_CL: a bool column holds the event's boolean", () => {
  const OKTA: LogSource = { product: 'okta', service: 'okta' }
  const EVENTS: JsonEvent[] = [
    {},
    { eventType: 'user.session.start', securityContext: { isProxy: true } },
    { eventType: 'user.session.start', 'securityContext.isProxy': false },
    { eventType: 'user.session.start', securityContext: { isProxy: null } },
    // Text is no value of a bool column.
    { eventType: 'user.session.start', 'securityContext.isProxy': 'true' },
  ]
  test("'true' is == true, a wildcard matching both is isnotnull; the proof holds and a flipped literal fails it", async () => {
    const eq = await checkEquivalence(
      rule(and([is('eventType', 'user.session.start'), is('securityContext.isProxy', 'TRUE')]), OKTA),
      EVENTS,
      backend,
      verifier,
      { variant: ALL },
    )
    expect(eq.query).toBe('Okta_CL\n| where eventType_s =~ "user.session.start" and securityContext_isProxy_b == true')
    expect(eq.mismatches).toEqual([])
    expect(eq.actual).toEqual([false, true, false, false, false])
    expect(eq.unrepresentable).toEqual([4])
    const stated = EVENTS.map((e) => ({ ...e, _logsource: OKTA }))
    const flipped = await verifier.verify(eq.query!.replace('== true', '== false'), stated, { variant: ALL })
    expect(flipped.matches).toEqual([false, false, true, false, false])
    const any = await checkEquivalence(
      rule(match('securityContext.isProxy', pat('*e')), OKTA),
      EVENTS,
      backend,
      verifier,
      {
        variant: ALL,
      },
    )
    expect(any.query).toBe('Okta_CL\n| where isnotnull(securityContext_isProxy_b)')
    expect(any.mismatches).toEqual([])
    const none = backend.compile(rule(is('securityContext.isProxy', 'yes'), OKTA), { variant: ALL })
    expect(none.diagnostics[0]!.code).toBe('target/unsupported-match')
  })
})

describe('AWSCloudTrail: errorCode is never empty text when the request failed', () => {
  const AWS: LogSource = { product: 'aws', service: 'cloudtrail' }
  const EVENTS: JsonEvent[] = [
    { eventName: 'DeleteBucket' },
    { eventName: 'DeleteBucket', errorCode: null },
    { eventName: 'DeleteBucket', errorCode: 'AccessDenied' },
    { eventName: 'DeleteBucket', errorCode: '' },
    { eventName: 'DeleteBucket', userAgent: '' },
  ]
  test('errorCode: null is isempty(ErrorCode), * is isnotempty; an empty errorCode is no record', async () => {
    const isNull = await checkEquivalence(
      rule(and([is('eventName', 'DeleteBucket'), { kind: 'Null', field: 'errorCode' }]), AWS),
      EVENTS,
      backend,
      verifier,
      { variant: ALL },
    )
    expect(isNull.query).toBe('AWSCloudTrail\n| where EventName =~ "DeleteBucket" and isempty(ErrorCode)')
    expect(isNull.mismatches).toEqual([])
    expect(isNull.actual).toEqual([true, true, false, false, true])
    expect(isNull.unrepresentable).toEqual([3])
    const any = await checkEquivalence(rule(match('errorCode', pat('*')), AWS), EVENTS, backend, verifier, {
      variant: ALL,
    })
    expect(any.query).toBe('AWSCloudTrail\n| where isnotempty(ErrorCode)')
    expect(any.mismatches).toEqual([])
  })
  test('the verifier owns which columns are never empty: a pipeline claiming it of UserAgent fails the proof', async () => {
    const pipeline = write(
      join(scratch(), 'aws.yml'),
      `variant: sentinel\nlogsources:\n  aws-cloudtrail:\n    match: { product: aws, service: cloudtrail }\n    table: AWSCloudTrail\n    fields: { eventName: EventName, userAgent: UserAgent, errorCode: ErrorCode }\n    nonempty: [ErrorCode, UserAgent]\n`,
    )
    const eq = await checkEquivalence(rule({ kind: 'Null', field: 'userAgent' }, AWS), EVENTS, backend, verifier, {
      variant: 'sentinel',
      pipeline,
    })
    expect(eq.query).toBe('AWSCloudTrail\n| where isempty(UserAgent)')
    expect(eq.mismatches).toEqual([4])
  })
})
