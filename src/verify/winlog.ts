/**
 * The verifiers' model of Windows event logs, shared by the four verifiers and by nothing else:
 * which record (channel, event id) a Windows Sigma category or service is on a Windows machine
 * running Sysmon with PowerShell logging, and back. Each verifier then says where such a record
 * lands in its target (src/verify/*-landing.ts).
 *
 * Channels and event ids are Microsoft's: Sysmon's event ids
 * (https://learn.microsoft.com/sysinternals/downloads/sysmon, "Events"), PowerShell's 4103/4104 in
 * Microsoft-Windows-PowerShell/Operational and 400/600/800 in "Windows PowerShell"
 * (https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_logging_windows).
 */
import type { Origin } from '../origin.js'
import type { LogSource } from '../rule/rule.js'
import { textAt } from '../guards.js'

export interface WinRecord {
  readonly channel: string
  readonly eventId?: number
  readonly provider?: string
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational'
const POWERSHELL = 'Microsoft-Windows-PowerShell/Operational'
const CLASSIC = 'Windows PowerShell'
const POWERSHELL_CORE = 'PowerShellCore/Operational'

/** Sysmon event ids by what they record (the Sysmon page's "Events" list). */
const SYSMON_EVENTS: readonly (readonly [category: string, id: number])[] = [
  ['process_creation', 1],
  ['file_change', 2],
  ['network_connection', 3],
  ['sysmon_status', 4],
  ['process_termination', 5],
  ['driver_load', 6],
  ['image_load', 7],
  ['create_remote_thread', 8],
  ['raw_access_thread', 9],
  ['process_access', 10],
  ['file_event', 11],
  ['registry_add', 12],
  ['registry_delete', 12],
  ['registry_event', 12],
  ['registry_set', 13],
  ['registry_rename', 14],
  ['create_stream_hash', 15],
  ['sysmon_status', 16],
  ['pipe_created', 17],
  ['pipe_created', 18],
  ['wmi_event', 19],
  ['wmi_event', 20],
  ['wmi_event', 21],
  ['dns_query', 22],
  ['file_delete', 23],
  ['clipboard_capture', 24],
  ['process_tampering', 25],
  ['file_delete_detected', 26],
  ['file_block_executable', 27],
  ['file_block_shredding', 28],
  ['file_executable_detected', 29],
  ['sysmon_error', 255],
]

const POWERSHELL_EVENTS: readonly (readonly [category: string, channel: string, id: number])[] = [
  ['ps_module', POWERSHELL, 4103],
  ['ps_script', POWERSHELL, 4104],
  ['ps_classic_start', CLASSIC, 400],
  ['ps_classic_provider_start', CLASSIC, 600],
  ['ps_classic_script', CLASSIC, 800],
  // PowerShell 7 (pwsh) writes the same module and script-block records to its own channel
  // (https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_logging_windows).
  // A category stated alone is placed in the first channel above; a PowerShellCore record is read back
  // as the same category.
  ['ps_module', POWERSHELL_CORE, 4103],
  ['ps_script', POWERSHELL_CORE, 4104],
]

/** Windows services (Sigma's names) → the event log channel. */
const SERVICE_CHANNELS: Readonly<Record<string, string>> = {
  security: 'Security',
  system: 'System',
  application: 'Application',
  sysmon: SYSMON,
  powershell: POWERSHELL,
  'powershell-classic': CLASSIC,
  windefend: 'Microsoft-Windows-Windows Defender/Operational',
  taskscheduler: 'Microsoft-Windows-TaskScheduler/Operational',
  wmi: 'Microsoft-Windows-WMI-Activity/Operational',
  'bits-client': 'Microsoft-Windows-Bits-Client/Operational',
  'codeintegrity-operational': 'Microsoft-Windows-CodeIntegrity/Operational',
  'firewall-as': 'Microsoft-Windows-Windows Firewall With Advanced Security/Firewall',
  'dns-client': 'Microsoft-Windows-DNS Client Events/Operational',
  'dns-server': 'DNS Server',
  'appxdeployment-server': 'Microsoft-Windows-AppXDeploymentServer/Operational',
  'msexchange-management': 'MSExchange Management',
  ntlm: 'Microsoft-Windows-NTLM/Operational',
  applocker: 'Microsoft-Windows-AppLocker/EXE and DLL',
  'iis-configuration': 'Microsoft-IIS-Configuration/Operational',
  'driver-framework': 'Microsoft-Windows-DriverFrameworks-UserMode/Operational',
  'security-mitigations': 'Microsoft-Windows-Security-Mitigations/Kernel Mode',
  openssh: 'OpenSSH/Operational',
  'lsa-server': 'Microsoft-Windows-LSA/Operational',
  capi2: 'Microsoft-Windows-CAPI2/Operational',
  'smbclient-security': 'Microsoft-Windows-SmbClient/Security',
  'shell-core': 'Microsoft-Windows-Shell-Core/Operational',
  ldap: 'Microsoft-Windows-LDAP-Client/Debug',
  'appmodel-runtime': 'Microsoft-Windows-AppModel-Runtime/Admin',
  'appxpackaging-om': 'Microsoft-Windows-AppxPackaging/Operational',
  'diagnosis-scripted': 'Microsoft-Windows-Diagnosis-Scripted/Operational',
  'terminalservices-localsessionmanager': 'Microsoft-Windows-TerminalServices-LocalSessionManager/Operational',
  'printservice-admin': 'Microsoft-Windows-PrintService/Admin',
  'printservice-operational': 'Microsoft-Windows-PrintService/Operational',
  'smbserver-connectivity': 'Microsoft-Windows-SMBServer/Connectivity',
  'smbclient-connectivity': 'Microsoft-Windows-SmbClient/Connectivity',
  'certificateservicesclient-lifecycle-system':
    'Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational',
  'microsoft-servicebus-client': 'Microsoft-ServiceBus-Client',
  'servicebus-client': 'Microsoft-ServiceBus-Client/Operational',
  bitlocker: 'Microsoft-Windows-BitLocker/BitLocker Management',
  dhcp: 'Microsoft-Windows-DHCP-Server/Operational',
  ntfs: 'Microsoft-Windows-Ntfs/Operational',
  sense: 'Microsoft-Windows-SENSE/Operational',
  vhdmp: 'Microsoft-Windows-VHDMP/Operational',
}

const lower = (s: string | undefined): string | undefined => s?.toLowerCase()

/** The record an event of a Windows category or service is (the first of several when it can be several). */
export function windowsRecordOf(ls: LogSource): WinRecord | undefined {
  if (lower(ls.product) !== 'windows') return undefined
  const category = lower(ls.category)
  if (category !== undefined) {
    const sysmon = SYSMON_EVENTS.find(([c]) => c === category)
    if (sysmon) return { channel: SYSMON, eventId: sysmon[1] }
    const ps = POWERSHELL_EVENTS.find(([c]) => c === category)
    if (ps) return { channel: ps[1], eventId: ps[2] }
    return undefined
  }
  const service = lower(ls.service)
  const channel = service !== undefined ? SERVICE_CHANNELS[service] : undefined
  return channel ? { channel } : undefined
}

/** The Sigma log source a Windows record is: its category when it has one, else its channel's service. */
export function logSourceOfRecord(r: WinRecord): LogSource {
  const channel = r.channel.toLowerCase()
  if (channel === SYSMON.toLowerCase() && r.eventId !== undefined) {
    const hit = SYSMON_EVENTS.find(([, id]) => id === r.eventId)
    if (hit) return { product: 'windows', category: hit[0] }
  }
  const ps = POWERSHELL_EVENTS.find(([, c, id]) => c.toLowerCase() === channel && id === r.eventId)
  if (ps) return { product: 'windows', category: ps[0] }
  const service = Object.entries(SERVICE_CHANNELS).find(([, c]) => c.toLowerCase() === channel)
  return service ? { product: 'windows', service: service[0] } : { product: 'windows' }
}

/**
 * A channel's name as Windows writes it in every record of the channel (`System`, not `sYSTEM`:
 * channel names are matched without case, but a record carries the channel's own spelling), for
 * the channels this model knows; any other name as given.
 */
export function canonicalChannel(channel: string): string {
  const known = [SYSMON, POWERSHELL, CLASSIC, POWERSHELL_CORE, ...Object.values(SERVICE_CHANNELS)]
  return known.find((c) => c.toLowerCase() === channel.toLowerCase()) ?? channel
}

/** An event's place: the Windows record it is (when it is one) and the Sigma log source it belongs to. */
export interface Placed {
  readonly record?: WinRecord
  readonly logsource: LogSource
}

export function place(origin: Origin | undefined): Placed | undefined {
  if (!origin) return undefined
  if (origin.kind === 'winlog') {
    const record: WinRecord = {
      channel: origin.channel,
      ...(origin.eventId !== undefined ? { eventId: origin.eventId } : {}),
      ...(origin.provider !== undefined ? { provider: origin.provider } : {}),
    }
    return { record, logsource: logSourceOfRecord(record) }
  }
  const record = windowsRecordOf(origin.logsource)
  return { ...(record ? { record } : {}), logsource: origin.logsource }
}

/** Whether a Sigma log source `match` (every key equal, case-insensitive) fits a log source. */
export function fits(match: Readonly<Record<string, string>>, ls: LogSource): boolean {
  return Object.entries(match).every(([k, v]) => lower(textAt(ls, k)) === lower(v))
}

/** Of entries with a `match`, the one with the most keys that fits (the most specific). */
export function mostSpecific<T extends { readonly match: Readonly<Record<string, string>> }>(
  entries: Iterable<T>,
  ls: LogSource,
): T | undefined {
  let best: T | undefined
  let bestKeys = -1
  for (const e of entries) {
    const n = Object.keys(e.match).length
    if (n > bestKeys && fits(e.match, ls)) {
      best = e
      bestKeys = n
    }
  }
  return best
}

/**
 * Windows' process auditing, Security 4688 "A new process has been created"
 * (https://learn.microsoft.com/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4688,
 * "Event XML"). The proof states such a record with Sigma's process-creation names where 4688 has
 * the same value under its own name (Image is NewProcessName, ParentImage ParentProcessName), and
 * with 4688's own names otherwise (CommandLine, SubjectUserName, TokenElevationType …). Every other
 * Sysmon field (hashes, OriginalFileName, User, IntegrityLevel, ParentCommandLine, ProcessId: 4688's
 * ProcessId is the creator's, in hex) has no counterpart: an event stating one is no 4688 record,
 * and a query reading one cannot be judged on a 4688 record (its value is unknown there, which is
 * not the same as missing).
 */
export const SECURITY_4688 = {
  /** Sigma's names for values a 4688 record holds under its own name. */
  renamed: { Image: 'NewProcessName', ParentImage: 'ParentProcessName' } as Readonly<Record<string, string>>,
  /** The record's EventData names (version 2: Windows 10 and Server 2016 on). */
  data: new Set([
    'SubjectUserSid',
    'SubjectUserName',
    'SubjectDomainName',
    'SubjectLogonId',
    'NewProcessId',
    'NewProcessName',
    'TokenElevationType',
    'CommandLine',
    'TargetUserSid',
    'TargetUserName',
    'TargetDomainName',
    'TargetLogonId',
    'ParentProcessName',
    'MandatoryLabel',
  ]) as ReadonlySet<string>,
  /** The System fields every record has, as Sigma events name them. */
  system: new Set(['Channel', 'EventID', 'Provider_Name', 'Computer']) as ReadonlySet<string>,
  /**
   * Sysmon's process-creation fields (https://learn.microsoft.com/sysinternals/downloads/sysmon,
   * event ID 1) that a 4688 record has no counterpart for: the process had such a value, the record
   * does not say it. A query that reads one cannot be judged on a 4688 record.
   */
  unknown: new Set([
    'RuleName',
    'UtcTime',
    'ProcessGuid',
    'ProcessId',
    'FileVersion',
    'Description',
    'Product',
    'Company',
    'OriginalFileName',
    'CurrentDirectory',
    'User',
    'LogonGuid',
    'LogonId',
    'TerminalSessionId',
    'IntegrityLevel',
    'Hashes',
    'ParentProcessGuid',
    'ParentProcessId',
    'ParentCommandLine',
    'ParentUser',
  ]) as ReadonlySet<string>,
}

/** Whether a record is a Security 4688. */
export const isSecurity4688 = (r: WinRecord | undefined): boolean =>
  r !== undefined && r.channel.toLowerCase() === 'security' && r.eventId === 4688

/** Whether a 4688 record holds a field stated under this name (its own name, or Sigma's for a renamed one). */
export const security4688Holds = (field: string): boolean =>
  SECURITY_4688.data.has(field) ||
  SECURITY_4688.system.has(field) ||
  Object.prototype.hasOwnProperty.call(SECURITY_4688.renamed, field)

/**
 * An event stated as a Security 4688 record, with 4688's own names (Image as NewProcessName …; a
 * name the event states itself wins), or the first field it states that no 4688 record holds.
 * `reserved` keys (the origin statement) are kept as they are.
 */
export function as4688Record(
  event: Readonly<Record<string, unknown>>,
  reserved: string,
): { readonly event: Record<string, unknown> } | { readonly lacks: string } {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(event)) {
    if (k === reserved) {
      out[k] = v
      continue
    }
    if (!security4688Holds(k)) {
      // A field stated without a value says nothing the record would have to hold.
      if (v === null || v === undefined) continue
      return { lacks: k }
    }
    const own = SECURITY_4688.renamed[k]
    if (own === undefined) out[k] = v
    else if (!Object.prototype.hasOwnProperty.call(event, own)) out[own] = v
  }
  return { event: out }
}
