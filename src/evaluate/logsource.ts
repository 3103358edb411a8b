/**
 * The reference's reading of Sigma log sources: which event origins (src/origin.ts) a rule's
 * `logsource` covers. Windows log sources are the channel and event ids of the Sigma taxonomy
 * appendix ("Log Sources", Windows folder:
 * https://github.com/SigmaHQ/sigma-specification/blob/main/appendix/sigma-appendix-taxonomy.md);
 * an event stating a `_logsource` is of a rule's log source when every key the rule gives is equal
 * (case-insensitive). This is the Sigma side only: where such events land in a target is each
 * verifier's own model (src/verify/*-landing.ts).
 */
import { originOf, type Origin } from '../origin.js'
import type { JsonEvent, LogSource } from '../rule/rule.js'
import { first } from '../guards.js'

const SYSMON = 'Microsoft-Windows-Sysmon/Operational'
const PS = ['Microsoft-Windows-PowerShell/Operational', 'PowerShellCore/Operational']

/** Raw Windows records a log source stands for: channels, and event ids (undefined: any id). */
interface WinRecords {
  readonly channels: readonly string[]
  readonly eventIds?: readonly number[]
}

const sysmon = (...eventIds: number[]): WinRecords => ({ channels: [SYSMON], eventIds })

/** Windows categories, from the taxonomy appendix's table. */
const CATEGORIES: Readonly<Record<string, readonly WinRecords[]>> = {
  // The appendix gives Sysmon event 1; Windows' own process auditing (Security 4688, "A new process
  // has been created") records the same activity and is how Sentinel holds it [our reading, as
  // pySigma's windows-audit pipeline reads it].
  process_creation: [sysmon(1), { channels: ['Security'], eventIds: [4688] }],
  file_change: [sysmon(2)],
  network_connection: [sysmon(3)],
  sysmon_status: [sysmon(4, 16)],
  process_termination: [sysmon(5)],
  driver_load: [sysmon(6)],
  image_load: [sysmon(7)],
  create_remote_thread: [sysmon(8)],
  raw_access_thread: [sysmon(9)],
  process_access: [sysmon(10)],
  file_event: [sysmon(11)],
  registry_event: [sysmon(12, 13, 14)],
  registry_add: [sysmon(12)],
  registry_delete: [sysmon(12)],
  registry_set: [sysmon(13)],
  registry_rename: [sysmon(14)],
  create_stream_hash: [sysmon(15)],
  pipe_created: [sysmon(17, 18)],
  wmi_event: [sysmon(19, 20, 21)],
  dns_query: [sysmon(22)],
  file_delete: [sysmon(23)],
  clipboard_capture: [sysmon(24)],
  process_tampering: [sysmon(25)],
  file_delete_detected: [sysmon(26)],
  file_block_executable: [sysmon(27)],
  file_block_shredding: [sysmon(28)],
  file_executable_detected: [sysmon(29)],
  sysmon_error: [sysmon(255)],
  ps_classic_start: [{ channels: ['Windows PowerShell'], eventIds: [400] }],
  ps_classic_provider_start: [{ channels: ['Windows PowerShell'], eventIds: [600] }],
  ps_classic_script: [{ channels: ['Windows PowerShell'], eventIds: [800] }],
  ps_module: [{ channels: PS, eventIds: [4103] }],
  ps_script: [{ channels: PS, eventIds: [4104] }],
}

/** Windows services: each is one or more channels, any event id. */
const SERVICES: Readonly<Record<string, readonly string[]>> = {
  application: ['Application'],
  applocker: [
    'Microsoft-Windows-AppLocker/MSI and Script',
    'Microsoft-Windows-AppLocker/EXE and DLL',
    'Microsoft-Windows-AppLocker/Packaged app-Deployment',
    'Microsoft-Windows-AppLocker/Packaged app-Execution',
  ],
  'appmodel-runtime': ['Microsoft-Windows-AppModel-Runtime/Admin'],
  'appxdeployment-server': ['Microsoft-Windows-AppXDeploymentServer/Operational'],
  'appxpackaging-om': ['Microsoft-Windows-AppxPackaging/Operational'],
  bitlocker: ['Microsoft-Windows-BitLocker/BitLocker Management'],
  'bits-client': ['Microsoft-Windows-Bits-Client/Operational'],
  capi2: ['Microsoft-Windows-CAPI2/Operational'],
  'certificateservicesclient-lifecycle-system': [
    'Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational',
  ],
  'codeintegrity-operational': ['Microsoft-Windows-CodeIntegrity/Operational'],
  dhcp: ['Microsoft-Windows-DHCP-Server/Operational'],
  'diagnosis-scripted': ['Microsoft-Windows-Diagnosis-Scripted/Operational'],
  'dns-client': ['Microsoft-Windows-DNS Client Events/Operational'],
  'dns-server': ['DNS Server'],
  'driver-framework': ['Microsoft-Windows-DriverFrameworks-UserMode/Operational'],
  'firewall-as': ['Microsoft-Windows-Windows Firewall With Advanced Security/Firewall'],
  'iis-configuration': ['Microsoft-IIS-Configuration/Operational'],
  ldap: ['Microsoft-Windows-LDAP-Client/Debug'],
  'lsa-server': ['Microsoft-Windows-LSA/Operational'],
  'msexchange-management': ['MSExchange Management'],
  ntlm: ['Microsoft-Windows-NTLM/Operational'],
  openssh: ['OpenSSH/Operational'],
  powershell: ['Microsoft-Windows-PowerShell/Operational'],
  'powershell-classic': ['Windows PowerShell'],
  'printservice-admin': ['Microsoft-Windows-PrintService/Admin'],
  'printservice-operational': ['Microsoft-Windows-PrintService/Operational'],
  security: ['Security'],
  'security-mitigations': [
    'Microsoft-Windows-Security-Mitigations/Kernel Mode',
    'Microsoft-Windows-Security-Mitigations/User Mode',
  ],
  'shell-core': ['Microsoft-Windows-Shell-Core/Operational'],
  'smbclient-security': ['Microsoft-Windows-SmbClient/Security'],
  sysmon: [SYSMON],
  system: ['System'],
  taskscheduler: ['Microsoft-Windows-TaskScheduler/Operational'],
  'terminalservices-localsessionmanager': ['Microsoft-Windows-TerminalServices-LocalSessionManager/Operational'],
  windefend: ['Microsoft-Windows-Windows Defender/Operational'],
  wmi: ['Microsoft-Windows-WMI-Activity/Operational'],
}

const lower = (s: string | undefined): string | undefined => s?.toLowerCase()

/** The raw Windows records a Windows log source stands for; undefined when the taxonomy names none. */
function windowsRecords(ls: LogSource): readonly WinRecords[] | undefined {
  if (lower(ls.product) !== 'windows') return undefined
  const byCategory = ls.category !== undefined ? CATEGORIES[ls.category.toLowerCase()] : undefined
  const byService = ls.service !== undefined ? SERVICES[ls.service.toLowerCase()] : undefined
  if (ls.category !== undefined && !byCategory) return undefined
  if (ls.service !== undefined && !byService) return undefined
  if (byCategory && byService)
    // Both given: the category's records in the service's channels.
    return byCategory
      .map((r) => ({
        ...r,
        channels: r.channels.filter((c) => byService.some((s) => s.toLowerCase() === c.toLowerCase())),
      }))
      .filter((r) => r.channels.length > 0)
  if (byCategory) return byCategory
  if (byService) return [{ channels: byService }]
  return undefined
}

function recordIn(records: readonly WinRecords[], channel: string, eventId: number | undefined): boolean {
  const c = channel.toLowerCase()
  return records.some(
    (r) =>
      r.channels.some((x) => x.toLowerCase() === c) &&
      (r.eventIds === undefined || (eventId !== undefined && r.eventIds.includes(eventId))),
  )
}

/** Whether an event of this origin belongs to the rule's log source. */
export function inLogSource(rule: LogSource, origin: Origin): boolean {
  if (origin.kind === 'winlog') {
    if (rule.product !== undefined && lower(rule.product) !== 'windows') return false
    if (rule.category === undefined && rule.service === undefined) return rule.product !== undefined
    const records = windowsRecords({ ...rule, product: 'windows' })
    return records !== undefined && recordIn(records, origin.channel, origin.eventId)
  }
  const o = origin.logsource
  const keys = (['product', 'category', 'service'] as const).filter((k) => rule[k] !== undefined)
  if (keys.every((k) => lower(o[k]) === lower(rule[k]))) return true
  // A Windows log source stated as the origin is its first record (as impliedFields says): is that
  // record of the rule's log source (a `process_creation` event is a Sysmon event, so it is in
  // `service: sysmon`)?
  const record = windowsRecords(o)?.[0]
  const theirs = windowsRecords(rule)
  if (!record || !theirs) return false
  return recordIn(theirs, first(record.channels), record.eventIds?.[0])
}

/**
 * The fields every record of a Windows log source has, for an event stated only by its log source
 * (`_logsource`): its channel, and its event id when the log source has ids (the first the taxonomy
 * lists: an event stated as `registry_event` is a Sysmon 12). The event's own fields win.
 */
export function impliedFields(origin: Origin | undefined): Record<string, string | number> {
  if (origin?.kind !== 'logsource') return {}
  const record = windowsRecords(origin.logsource)?.[0]
  if (!record) return {}
  return {
    Channel: first(record.channels),
    ...(record.eventIds !== undefined ? { EventID: first(record.eventIds) } : {}),
  }
}

/** True when the event states no origin, or one the rule's log source covers. */
export function eventInLogSource(rule: LogSource, event: JsonEvent): boolean {
  const origin = originOf(event)
  return origin === undefined || inLogSource(rule, origin)
}
