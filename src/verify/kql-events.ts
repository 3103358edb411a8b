/**
 * The KQL verifier's model of the tables: where an event of each origin lands (which Defender XDR
 * or Sentinel table, with which ActionType, EventLog or EventID), how its Sigma fields become
 * columns, and what a column of each type can hold. Written from Microsoft's table references,
 * apart from the backend's log-source map: test/conformance/landing.test.ts checks that the two
 * agree on the rule pack. Field names (Sigma field → column) are read from the target's field maps
 * in targets/kql/target.yml (only `match` and `fields`: never a table or a condition), and column
 * types from targets/kql/schema/<variant>.yml.
 */
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { ORIGIN_KEY, originOf, type Origin } from '../origin.js'
import { targetPath } from '../paths.js'
import type { JsonEvent, LogSource } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { isMap, pipelineLogSources, readPipeline } from './pipeline.js'
import {
  as4688Record,
  canonicalChannel,
  isSecurity4688,
  mostSpecific,
  place,
  type Placed,
  type WinRecord,
} from './winlog.js'
import { first, mapOf, must } from '../guards.js'

type ColumnType = string

/** Where an event lands: its table, the constant columns of that kind of row, and whose field names it uses. */
export interface KqlLanding {
  readonly table: string
  readonly constants: Readonly<Record<string, string | number>>
  /** Columns whose value the kind of record decides, whatever the event's same-named field says. */
  readonly fixed?: Readonly<Record<string, string | number>>
  readonly naming: LogSource
  /** The table's own field names, when they are the record's (WindowsEvent): not read from target.yml. */
  readonly columns?: Readonly<Record<string, string>>
  /** The table's columns follow a naming rule of the record's fields (ZEEK_NAMES): not read from target.yml. */
  readonly names?: 'zeek'
  /**
   * The row is a Security 4688 record as the agent collects it: the event's fields under 4688's own
   * names (Image as NewProcessName, ParentImage as ParentProcessName: SECURITY_4688 in winlog.ts),
   * and an event stating a field no 4688 record holds is no such row.
   */
  readonly security4688?: true
  /**
   * The record has no fields but these columns' (SYSLOG_RECORD): an event with a field none of them
   * takes, or with two fields for one of them, is no row of the table.
   */
  readonly closed?: ReadonlySet<string>
  /**
   * Columns the record writes itself, exactly (WindowsEvent's Channel: the channel's name as Windows
   * spells it): an event whose own field there says anything else is no record of the kind.
   */
  readonly says?: Readonly<Record<string, string>>
  /**
   * Sigma fields the record keeps as a key of a dynamic column, named by the verifier itself (the
   * antivirus detection's threat name: ANTIVIRUS_KEYS), not by target.yml.
   */
  readonly keyed?: Readonly<Record<string, readonly [column: string, key: string]>>
  /** String columns whose field, when the record has it, is never empty text (CLOUDTRAIL_NONEMPTY). */
  readonly nonempty?: ReadonlySet<string>
}

/**
 * CloudTrail writes errorCode and errorMessage only when the request failed, as the error's code
 * and description
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html:
 * both "Optional"): a record whose errorCode is empty text is no CloudTrail record.
 */
const CLOUDTRAIL_NONEMPTY: ReadonlySet<string> = new Set(['ErrorCode', 'ErrorMessage'])

/**
 * Microsoft Defender Antivirus's detections in advanced hunting: a DeviceEvents row with ActionType
 * AntivirusDetection (https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceevents-table),
 * the detected threat's name under AdditionalFields' ThreatName key (as Microsoft's hunting
 * queries read it). Sigma's antivirus Signature is that name.
 */
const ANTIVIRUS_KEYS: Readonly<Record<string, readonly [string, string]>> = {
  Signature: ['AdditionalFields', 'ThreatName'],
}

/**
 * What a Syslog row holds of the line it was written from
 * (https://learn.microsoft.com/azure/azure-monitor/reference/tables/syslog): the sending host
 * (Computer, HostName, HostIP), facility and severity, the program and its process id
 * (ProcessName, ProcessID) and the message (SyslogMessage). Its other columns are the workspace's
 * (TenantId, SourceSystem, MG, CollectorHostName, Type) or times. A Linux log line is these fields
 * and no others: a Sigma event with any other field is not such a line.
 */
const SYSLOG_RECORD: ReadonlySet<string> = new Set([
  'Computer',
  'HostName',
  'HostIP',
  'Facility',
  'SeverityLevel',
  'ProcessName',
  'ProcessID',
  'SyslogMessage',
])

/**
 * What a W3CIISLog row holds of an IIS access-log line
 * (https://learn.microsoft.com/azure/azure-monitor/reference/tables/w3ciislog): the W3C extended
 * log's fields (site, server name, address and port, method, URI stem and query, user, client
 * address, protocol version, user agent, cookie, referrer, host, status, substatus, Win32 status,
 * bytes each way, time taken). Computer is the collecting agent's host, not a field of the line.
 */
const IIS_RECORD: ReadonlySet<string> = new Set([
  'sSiteName',
  'sComputerName',
  'sIP',
  'sPort',
  'csMethod',
  'csUriStem',
  'csUriQuery',
  'csUserName',
  'cIP',
  'csVersion',
  'csUserAgent',
  'csCookie',
  'csReferer',
  'csHost',
  'scStatus',
  'scSubStatus',
  'scWin32Status',
  'scBytes',
  'csBytes',
  'TimeTaken',
])

/**
 * Columns that hold fields as keys rather than one field each. WindowsEvent keeps a record's data
 * fields (Sysmon's Image, a 7045's ServiceName, a 4104's ScriptBlockText) in `EventData`, "the
 * event data parsed to dynamic type" (https://learn.microsoft.com/azure/azure-monitor/reference/tables/windowsevent):
 * every field that is not one of the record's System columns. Data values of a Windows record are
 * text in its XML; a number or boolean in an event is kept as the JSON text it was logged as.
 */
interface Bag {
  /** The Sigma field prefix (`""`: every field no column takes). */
  readonly prefix: string
  readonly column: string
  /** A string column holding JSON text (else a dynamic column). */
  readonly json: boolean
}
const BAGS: Readonly<Record<string, readonly Bag[]>> = {
  WindowsEvent: [{ prefix: '', column: 'EventData', json: false }],
  // The AWS connector keeps these three CloudTrail objects as JSON text, keys as AWS wrote them
  // (https://learn.microsoft.com/azure/azure-monitor/reference/tables/awscloudtrail: string columns).
  AWSCloudTrail: [
    { prefix: 'requestParameters', column: 'RequestParameters', json: true },
    { prefix: 'responseElements', column: 'ResponseElements', json: true },
    { prefix: 'additionalEventData', column: 'AdditionalEventData', json: true },
  ],
  // The sign-in's device, Microsoft Graph's deviceDetail object as a dynamic column
  // (https://learn.microsoft.com/azure/azure-monitor/reference/tables/signinlogs: DeviceDetail dynamic;
  // https://learn.microsoft.com/graph/api/resources/devicedetail).
  SigninLogs: [{ prefix: 'DeviceDetail', column: 'DeviceDetail', json: false }],
  // Kubernetes' audit event objects as dynamic columns (https://learn.microsoft.com/azure/azure-monitor/reference/tables/aksaudit).
  AKSAudit: [
    { prefix: 'objectRef', column: 'ObjectRef', json: false },
    { prefix: 'user', column: 'User', json: false },
    { prefix: 'responseStatus', column: 'ResponseStatus', json: false },
  ],
}

/**
 * Cloud and identity records, by Sigma product/service, and the Sentinel connector table that
 * receives them: https://learn.microsoft.com/azure/azure-monitor/reference/tables/awscloudtrail,
 * .../azureactivity, .../auditlogs, .../signinlogs, .../aaduserriskevents; GCPAuditLogs (the GCP
 * Pub/Sub connector), Okta_CL (the Okta Single Sign-On connector), .../aksaudit (AKS's
 * Kubernetes audit), GitHubAuditLogPolling_CL (the GitHub connector) and .../officeactivity.
 */
const SENTINEL_CONNECTORS: Readonly<Record<string, string>> = {
  'aws/cloudtrail': 'AWSCloudTrail',
  'azure/activitylogs': 'AzureActivity',
  'azure/auditlogs': 'AuditLogs',
  'azure/signinlogs': 'SigninLogs',
  'azure/riskdetection': 'AADUserRiskEvents',
  'gcp/gcp.audit': 'GCPAuditLogs',
  'okta/okta': 'Okta_CL',
  'kubernetes/audit': 'AKSAudit',
  'github/audit': 'GitHubAuditLogPolling_CL',
  'm365/audit': 'OfficeActivity',
}

/**
 * Zeek logs from Corelight sensors: one Logs Ingestion API table per Zeek log (Azure-Sentinel
 * Solutions/Corelight/Data Connectors/CorelightExporter/CorelightConnectorExporter.json: "routed
 * into dedicated Corelight_v3_*_CL tables by per-log-type Data Collection Rules").
 */
const ZEEK_TABLES: Readonly<Record<string, string>> = {
  dce_rpc: 'Corelight_v3_dce_rpc_CL',
  smb_files: 'Corelight_v3_smb_files_CL',
  dns: 'Corelight_v3_dns_CL',
  http: 'Corelight_v3_http_CL',
  x509: 'Corelight_v3_x509_CL',
  kerberos: 'Corelight_v3_kerberos_CL',
  rdp: 'Corelight_v3_rdp_CL',
}

/**
 * How those tables name a Zeek log's fields, read off their column lists (Azure-Sentinel
 * .script/tests/KqlvalidationsTests/CustomTables/Corelight_v3_<log>_CL.json) next to Zeek's logs
 * (https://docs.zeek.org/en/master/logs/index.html): a field of one of Zeek's records is
 * `record_field` (id.orig_h → id_orig_h, certificate.serial → certificate_serial), the metadata
 * fields lose their leading underscore (_path → path, as the older v2 tables' _path_s shows), dns'
 * Z is zeek_Z, and every other field is its column. The verifier's own reading: target.yml's field
 * maps are not consulted, so a wrong map there shows as a mismatch.
 */
const ZEEK_RECORDS = ['id', 'certificate', 'san', 'basic_constraints']
const ZEEK_RENAMED: Readonly<Record<string, string>> = {
  path: '_path',
  system_name: '_system_name',
  write_ts: '_write_ts',
  zeek_Z: 'Z',
}
const TABLE_COLUMNS = new Set(['TimeGenerated', 'Type'])

function zeekNames(columns: Readonly<Record<string, ColumnType>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const column of Object.keys(columns)) {
    if (TABLE_COLUMNS.has(column)) continue
    const record = ZEEK_RECORDS.find((r) => column.startsWith(`${r}_`))
    const field = ZEEK_RENAMED[column] ?? (record ? `${record}.${column.slice(record.length + 1)}` : column)
    out[field] = column
  }
  return out
}

/**
 * WindowsEvent's System columns, named as Windows records name them in Sigma events
 * (https://learn.microsoft.com/azure/azure-monitor/reference/tables/windowsevent: Channel,
 * Computer, EventID, Provider).
 */
const WINDOWS_EVENT_COLUMNS: Readonly<Record<string, string>> = {
  Channel: 'Channel',
  Computer: 'Computer',
  EventID: 'EventID',
  Provider_Name: 'Provider',
}

/**
 * Defender XDR advanced hunting: what the Defender sensor records for the activity a Sigma log
 * source describes, on Windows, Linux and macOS alike, and the ActionType it gives the row:
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table (ProcessCreated),
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-devicefileevents-table (FileCreated,
 * FileRenamed, FileDeleted), https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceregistryevents-table
 * (RegistryKeyCreated, RegistryValueSet, RegistryKeyDeleted),
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-devicenetworkevents-table (ConnectionSuccess),
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceimageloadevents-table (ImageLoaded).
 * Event-log channels (Security, System, …) are not collected by Defender: such events land nowhere.
 */
const DEFENDER: Readonly<Record<string, readonly [table: string, actionType: string]>> = {
  process_creation: ['DeviceProcessEvents', 'ProcessCreated'],
  file_event: ['DeviceFileEvents', 'FileCreated'],
  file_rename: ['DeviceFileEvents', 'FileRenamed'],
  file_delete: ['DeviceFileEvents', 'FileDeleted'],
  registry_add: ['DeviceRegistryEvents', 'RegistryKeyCreated'],
  registry_set: ['DeviceRegistryEvents', 'RegistryValueSet'],
  registry_event: ['DeviceRegistryEvents', 'RegistryValueSet'],
  registry_delete: ['DeviceRegistryEvents', 'RegistryKeyDeleted'],
  image_load: ['DeviceImageLoadEvents', 'ImageLoaded'],
  network_connection: ['DeviceNetworkEvents', 'ConnectionSuccess'],
}
const DEFENDER_PRODUCTS = new Set(['windows', 'linux', 'macos'])

function defenderLanding(p: Placed): KqlLanding | undefined {
  // An antivirus detection, whatever the platform: Defender Antivirus's AntivirusDetection row.
  if (p.logsource.category?.toLowerCase() === 'antivirus')
    return {
      table: 'DeviceEvents',
      constants: { ActionType: 'AntivirusDetection' },
      naming: { category: 'antivirus' },
      keyed: ANTIVIRUS_KEYS,
    }
  const product = p.logsource.product?.toLowerCase()
  // Windows' own process auditing (Security 4688) records the process creation Defender records.
  const category =
    p.record?.channel.toLowerCase() === 'security' && p.record.eventId === 4688
      ? 'process_creation'
      : p.logsource.category?.toLowerCase()
  if (product === undefined || !DEFENDER_PRODUCTS.has(product) || category === undefined) return undefined
  const hit = DEFENDER[category]
  if (!hit) return undefined
  return { table: hit[0], constants: { ActionType: hit[1] }, naming: { product, category } }
}

/**
 * Sentinel (Log Analytics): the Windows Security Events connector writes the Security channel to
 * SecurityEvent (https://learn.microsoft.com/azure/azure-monitor/reference/tables/securityevent),
 * other channels collected by the Azure Monitor agent go to Event with the channel in EventLog and
 * the provider in Source (https://learn.microsoft.com/azure/azure-monitor/reference/tables/event),
 * and syslog to Syslog (https://learn.microsoft.com/azure/azure-monitor/reference/tables/syslog).
 * A process creation stated only as a Sigma log source is Windows' own process auditing there:
 * SecurityEvent 4688.
 */
function sentinelLandings(p: Placed, rawRecord: boolean): KqlLanding[] {
  const product = p.logsource.product?.toLowerCase()
  // Syslog lines, and Linux logs in general (a log source naming only the product): the Syslog
  // connector keeps the lines the host's syslog daemon forwards, named as syslog's are.
  const service = p.logsource.service?.toLowerCase()
  if (product === 'linux' && (service === 'syslog' || (service === undefined && p.logsource.category === undefined)))
    return [{ table: 'Syslog', constants: {}, naming: { product: 'linux', service: 'syslog' }, closed: SYSLOG_RECORD }]
  // ESXi's shell.log lines are forwarded by vmsyslogd with the app name `shell`, which Syslog keeps
  // in ProcessName (https://learn.microsoft.com/azure/azure-monitor/reference/tables/syslog).
  if (product === 'esxi' && p.logsource.service?.toLowerCase() === 'shell')
    return [{ table: 'Syslog', constants: { ProcessName: 'shell' }, naming: p.logsource }]
  // A web server's access-log line: IIS's W3C log, collected by the Azure Monitor agent.
  if (p.logsource.category?.toLowerCase() === 'webserver')
    return [{ table: 'W3CIISLog', constants: {}, naming: { category: 'webserver' }, closed: IIS_RECORD }]
  const connector = SENTINEL_CONNECTORS[`${product}/${p.logsource.service?.toLowerCase()}`]
  if (connector)
    return [
      {
        table: connector,
        constants: {},
        naming: p.logsource,
        ...(connector === 'AWSCloudTrail' ? { nonempty: CLOUDTRAIL_NONEMPTY } : {}),
      },
    ]
  const zeek = product === 'zeek' ? ZEEK_TABLES[p.logsource.service?.toLowerCase() ?? ''] : undefined
  if (zeek) return [{ table: zeek, constants: {}, naming: p.logsource, names: 'zeek' }]
  if (product !== 'windows') return []
  const windowsEvent = (record: WinRecord): KqlLanding => ({
    table: 'WindowsEvent',
    // A record's Channel is its channel's name as Windows writes it in every record (`System`,
    // never `sYSTEM` or empty): an event stating another spelling is no record of that channel.
    says: { Channel: canonicalChannel(record.channel) },
    constants: {
      Channel: canonicalChannel(record.channel),
      ...(record.eventId !== undefined ? { EventID: record.eventId } : {}),
      ...(record.provider !== undefined ? { Provider: record.provider } : {}),
    },
    naming: p.logsource,
    columns: WINDOWS_EVENT_COLUMNS,
  })
  if (!rawRecord && p.logsource.category?.toLowerCase() === 'process_creation')
    return [
      {
        table: 'SecurityEvent',
        constants: {},
        // A 4688 record, whatever a Sigma-level EventID on the event says (Sysmon's is 1).
        fixed: { EventID: 4688, Channel: 'Security' },
        naming: { product: 'windows', category: 'process_creation' },
      },
      // The same process creation as Sysmon records it, forwarded to WindowsEvent.
      { ...windowsEvent({ channel: SYSMON_CHANNEL, eventId: 1 }), fixed: { EventID: 1, Channel: SYSMON_CHANNEL } },
    ]
  if (!p.record) return []
  const out: KqlLanding[] = []
  // A raw Security 4688 is SecurityEvent's process creation, with the record's own column names
  // (NewProcessName, ParentProcessName, CommandLine …), as the sentinel process_creation entries
  // read it; in WindowsEvent its EventData keys are the same names.
  const security4688 = isSecurity4688(p.record) ? ({ security4688: true } as const) : {}
  if (p.record.channel.toLowerCase() === 'security')
    out.push({
      table: 'SecurityEvent',
      constants: { Channel: 'Security', ...(p.record.eventId !== undefined ? { EventID: p.record.eventId } : {}) },
      naming: { product: 'windows', service: 'security' },
      ...security4688,
    })
  // Every channel the agent forwards, Security included, is also a WindowsEvent row.
  out.push({ ...windowsEvent(p.record), ...security4688 })
  return out
}

const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational'

/**
 * ASIM's unifying parsers (https://learn.microsoft.com/azure/sentinel/normalization-about-parsers):
 * the normalised schema an activity is returned by, and its EventType value: process creation
 * (https://learn.microsoft.com/azure/sentinel/normalization-schema-process-event: ProcessCreated),
 * file activity (.../normalization-schema-file-event: FileCreated, FileDeleted, FileRenamed,
 * FileAccessed),
 * registry activity (.../normalization-schema-registry-event: RegistryKeyCreated,
 * RegistryValueSet, RegistryKeyDeleted), network sessions, DNS queries and web sessions.
 */
const ASIM: Readonly<Record<string, readonly [table: string, eventType?: string]>> = {
  process_creation: ['_Im_ProcessCreate', 'ProcessCreated'],
  file_event: ['_Im_FileEvent', 'FileCreated'],
  file_delete: ['_Im_FileEvent', 'FileDeleted'],
  file_rename: ['_Im_FileEvent', 'FileRenamed'],
  // A file opened for reading (Sigma's file_access) is the schema's FileAccessed.
  file_access: ['_Im_FileEvent', 'FileAccessed'],
  registry_add: ['_Im_RegistryEvent', 'RegistryKeyCreated'],
  registry_set: ['_Im_RegistryEvent', 'RegistryValueSet'],
  registry_event: ['_Im_RegistryEvent', 'RegistryValueSet'],
  registry_delete: ['_Im_RegistryEvent', 'RegistryKeyDeleted'],
  network_connection: ['_Im_NetworkSession'],
  dns_query: ['_Im_Dns'],
  dns: ['_Im_Dns'],
  proxy: ['_Im_WebSession'],
}

function asimLandings(p: Placed): KqlLanding[] {
  const product = p.logsource.product?.toLowerCase()
  // Windows' own process auditing (Security 4688) is a process creation to ASIM too.
  const category =
    p.record?.channel.toLowerCase() === 'security' && p.record.eventId === 4688
      ? 'process_creation'
      : p.logsource.category?.toLowerCase()
  if (category === undefined) return []
  const hit = ASIM[category]
  if (!hit) return []
  // Endpoint activity is returned for the devices ASIM's parsers read (Windows, Linux, macOS);
  // network-level categories (dns, proxy) have no product.
  const endpoint = category !== 'dns' && category !== 'proxy'
  if (endpoint && (product === undefined || !DEFENDER_PRODUCTS.has(product))) return []
  return [
    {
      table: hit[0],
      constants: {},
      // The parsers write EventType from the activity itself: Sysmon's own EventType field
      // (SetValue, CreateKey) never reaches the column (normalization-schema-registry-event).
      ...(hit[1] !== undefined ? { fixed: { EventType: hit[1] } } : {}),
      naming: { ...(product !== undefined ? { product } : {}), category },
    },
  ]
}

/** Every table an event lands in, in this family. */
export function landings(origin: Origin | undefined, variant: string): KqlLanding[] {
  const p = place(origin)
  if (!p) return []
  if (variant === 'sentinel') return sentinelLandings(p, origin?.kind === 'winlog')
  if (variant === 'defender') {
    const d = defenderLanding(p)
    return d ? [d] : []
  }
  if (variant === 'asim') return asimLandings(p)
  return []
}

/** The table an event lands in when it lands in one (the first of several). */
export function landing(origin: Origin | undefined, variant: string): KqlLanding | undefined {
  return landings(origin, variant)[0]
}

// --- field names and column types --------------------------------------------------------------

interface FieldSpec {
  readonly column: string
  readonly name?: string
  readonly separator: string
}

interface Naming {
  readonly match: Readonly<Record<string, string>>
  readonly fields: Readonly<Record<string, FieldSpec>>
}

export interface KqlModel {
  readonly variant: string
  readonly tables: Readonly<Record<string, Readonly<Record<string, ColumnType>>>>
  readonly fields: Readonly<Record<string, FieldSpec>>
  readonly namings: readonly Naming[]
}

/** The separator a `{ column, name }` entry splits on when it names none: Windows paths. */
const DEFAULT_SEPARATOR = '\\'

function fieldSpecs(raw: unknown): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = {}
  if (!isMap(raw)) return out
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string') out[k] = { column: v, separator: DEFAULT_SEPARATOR }
    // A key of a bag: the verifier names those itself (KqlLanding.keyed), never from target.yml.
    else if (isMap(v) && v['key'] !== undefined) continue
    else if (isMap(v) && typeof v['column'] === 'string')
      out[k] = {
        column: v['column'],
        ...(typeof v['name'] === 'string' ? { name: v['name'] } : {}),
        separator: typeof v['separator'] === 'string' ? v['separator'] : DEFAULT_SEPARATOR,
      }
  }
  return out
}

let shipped: Record<string, unknown> | undefined
const models = new Map<string, KqlModel | string>()

/**
 * The models of every family a `variant` option names (one name or a comma list, e.g.
 * `defender,sentinel`); a query is read against the family whose schema has its table, the first
 * in target.yml's order. A pipeline builds on the family its `variant:` key names, else on the first.
 */
export function kqlModels(options: TargetOptions = {}): KqlModel[] | string {
  shipped ??= mapOf(yaml.load(readFileSync(targetPath('kql', 'target.yml'), 'utf8')), 'target.yml')
  const declared = Object.keys(isMap(shipped['variants']) ? shipped['variants'] : {})
  if (options.variant === undefined || !options.variant.includes(',')) {
    const m = kqlModel(options)
    return typeof m === 'string' ? m : [m]
  }
  const named = options.variant.split(',').map((v) => v.trim())
  for (const v of named) if (!declared.includes(v)) return `kql has no schema family "${v}"`
  const families = declared.filter((v) => named.includes(v))
  let owner = first(families)
  if (options.pipeline !== undefined) {
    const user = readPipeline(options.pipeline)
    if (typeof user === 'string') return user
    if (typeof user['variant'] === 'string' && families.includes(user['variant'])) owner = user['variant']
  }
  const out: KqlModel[] = []
  for (const f of families) {
    const m = kqlModel(
      f === owner && options.pipeline !== undefined ? { variant: f, pipeline: options.pipeline } : { variant: f },
    )
    if (typeof m === 'string') return m
    out.push(m)
  }
  return out
}

/** The field names and column types for these options (the pipeline's `fields` merged over the shipped ones). */
export function kqlModel(options: TargetOptions = {}): KqlModel | string {
  const key = `${options.variant ?? ''}\u0000${options.pipeline ?? ''}`
  let m = models.get(key)
  if (m === undefined) {
    m = buildModel(options)
    models.set(key, m)
  }
  return m
}

function buildModel(options: TargetOptions): KqlModel | string {
  shipped ??= mapOf(yaml.load(readFileSync(targetPath('kql', 'target.yml'), 'utf8')), 'target.yml')
  const user = options.pipeline !== undefined ? readPipeline(options.pipeline) : {}
  if (typeof user === 'string') return user
  const variant =
    options.variant ??
    (typeof user['variant'] === 'string'
      ? user['variant']
      : typeof shipped['default_variant'] === 'string'
        ? shipped['default_variant']
        : 'defender')
  const variants = isMap(shipped['variants']) ? shipped['variants'] : {}
  const base = variants[variant]
  if (!isMap(base)) return `kql has no schema family "${variant}"`
  const namings = new Map<string, Naming>()
  for (const doc of [base, user])
    for (const { name, match, entry } of pipelineLogSources(doc))
      namings.set(name, { match, fields: fieldSpecs(entry['fields']) })
  const schemaDoc = mapOf(yaml.load(readFileSync(targetPath('kql', 'schema', `${variant}.yml`), 'utf8')), variant)
  const schema = { tables: tablesOf(schemaDoc['tables']) }
  return {
    variant,
    tables: schema.tables,
    fields: { ...fieldSpecs(base['fields']), ...fieldSpecs(user['fields']) },
    namings: [...namings.values()],
  }
}

/** A row of a table: column → value (string columns never hold null: "" stands for missing; dynamic columns hold JSON). */
export type KqlRow = Readonly<Record<string, string | number | boolean | null | Readonly<Record<string, unknown>>>>

export type Placement =
  | { readonly table: string; readonly row: KqlRow; readonly unrepresentable?: undefined }
  | { readonly table: string; readonly row?: undefined; readonly unrepresentable: string }

/**
 * A Sigma field's value in an event: the exact key first (a flat `a.b` key), else a dotted path
 * into nested objects, as the Sigma taxonomy names nested fields.
 */
function lookup(event: JsonEvent, name: string): unknown {
  if (name === ORIGIN_KEY) return undefined
  if (Object.prototype.hasOwnProperty.call(event, name)) return event[name]
  let cur: unknown = event
  for (const part of name.split('.')) {
    if (!isMap(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined
    cur = cur[part]
  }
  return cur
}

/** The text after the last separator of a path; "" when it has none. */
function afterLast(path: string, separator: string): string {
  const i = path.lastIndexOf(separator)
  return i < 0 ? '' : path.slice(i + separator.length)
}

const INT32 = 2 ** 31

/** What kind of value it is, for a reason that names the cause and not the event. */
function valueKind(value: unknown): string {
  if (typeof value === 'string')
    return /^0x[0-9a-f]+$/i.test(value) ? 'hex text not in the form Windows writes' : 'text'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer out of range' : 'a fraction'
  return `a ${typeof value}`
}

/**
 * A value as a column of this type holds it, or why it cannot be one. Kusto's string type has no
 * null: a missing value is "" (https://learn.microsoft.com/kusto/query/scalar-data-types/null-values);
 * numbers and booleans in string columns are the JSON text they were logged as; long and int
 * columns hold integers (https://learn.microsoft.com/kusto/query/scalar-data-types/long,
 * .../int: 32-bit), and a string that is an integer's canonical text.
 */
function columnValue(
  value: unknown,
  type: ColumnType,
  hexLogonId: boolean,
): { value: string | number | boolean | null } | { reason: string } {
  if (value === undefined || value === null) return { value: type === 'string' ? '' : null }
  // A bool column holds the record's JSON boolean (https://learn.microsoft.com/kusto/query/scalar-data-types/bool);
  // text there is no value the source logs.
  if (type === 'bool') return typeof value === 'boolean' ? { value } : { reason: `${valueKind(value)} is not a bool` }
  if (type === 'string') {
    if (typeof value === 'string') return { value }
    if (typeof value === 'number' || typeof value === 'boolean') return { value: JSON.stringify(value) }
    return { reason: `a ${Array.isArray(value) ? 'list' : 'map'} cannot be stored in a string column` }
  }
  if (type === 'long' || type === 'int') {
    let n: number | undefined
    if (typeof value === 'number') n = value
    else if (typeof value === 'string' && /^-?(0|[1-9]\d*)$/.test(value)) n = Number(value)
    // Windows writes logon ids as hex text (Sysmon's and Security's LogonId `0x529ae3`: lower-case
    // digits, no leading zero), where Defender stores the same identifier as a long
    // (https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table: "LogonId
    // long"). Only that canonical form converts: it and the number stand for each other one to one.
    else if (typeof value === 'string' && hexLogonId && /^0x(0|[1-9a-f][0-9a-f]*)$/.test(value))
      n = Number.parseInt(value.slice(2), 16)
    if (n === undefined || !Number.isSafeInteger(n) || (type === 'int' && (n < -INT32 || n >= INT32)))
      return { reason: `${valueKind(value)} is not a ${type}` }
    return { value: n }
  }
  return { reason: `the kql verifier does not write ${type} columns` }
}

/**
 * What placing an event in one landing needs that does not depend on the event: the field map in
 * force, sorted, the columns it writes, the empty row. Built once per model, table, naming and
 * column map; a test run places thousands of events in the same few landings.
 */
interface LandingPlan {
  readonly columns: Readonly<Record<string, ColumnType>>
  readonly bags: readonly Bag[]
  /** The field map, sorted by Sigma name, each with whether the name holds a dot. */
  readonly fields: readonly (readonly [string, FieldSpec, boolean])[]
  /** Columns no mapped field writes, in the table's order: an event's field of the same name fills them. */
  readonly unmapped: readonly (readonly [string, FieldSpec, boolean])[]
  readonly catchAll: boolean
  readonly emptyRow: Readonly<Record<string, string | null>>
}

const plans = new WeakMap<KqlModel, Map<string, LandingPlan | null>>()
const columnMapIds = new WeakMap<object, number>()
let columnMapCount = 0

/** A landing's column map by identity: the few maps are shared constants, so a number names each. */
function columnMapId(columns: object): number {
  let id = columnMapIds.get(columns)
  if (id === undefined) columnMapIds.set(columns, (id = ++columnMapCount))
  return id
}

function planFor(model: KqlModel, land: KqlLanding): LandingPlan | undefined {
  let byLanding = plans.get(model)
  if (!byLanding) plans.set(model, (byLanding = new Map()))
  const key = JSON.stringify([
    land.table,
    land.naming,
    land.columns === undefined ? 0 : columnMapId(land.columns),
    land.names ?? '',
  ])
  const cached = byLanding.get(key)
  if (cached !== undefined) return cached ?? undefined
  const columns = model.tables[land.table]
  if (!columns) {
    byLanding.set(key, null)
    return undefined
  }
  const bags = BAGS[land.table] ?? []
  const own = land.columns ?? (land.names === 'zeek' ? zeekNames(columns) : undefined)
  const naming = own ? undefined : mostSpecific(model.namings, land.naming)
  const map: Record<string, FieldSpec> = own
    ? Object.fromEntries(Object.entries(own).map(([k, c]) => [k, { column: c, separator: DEFAULT_SEPARATOR }]))
    : { ...model.fields, ...naming?.fields }
  const mapped = new Set(Object.values(map).flatMap((f) => (f.name ? [f.column, f.name] : [f.column])))
  const emptyRow: Record<string, string | null> = {}
  for (const [column, type] of Object.entries(columns)) emptyRow[column] = type === 'string' ? '' : null
  const plan: LandingPlan = {
    columns,
    bags,
    fields: Object.entries(map)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([sigma, spec]) => [sigma, spec, sigma.includes('.')] as const),
    // A bag column takes fields by their prefix (fillBag), never a field of its own name whole.
    unmapped: Object.keys(columns)
      .filter((column) => !mapped.has(column) && !bags.some((b) => b.column === column))
      .map((column) => [column, { column, separator: DEFAULT_SEPARATOR }, column.includes('.')] as const),
    catchAll: bags.some((b) => b.prefix === ''),
    emptyRow,
  }
  byLanding.set(key, plan)
  return plan
}

/**
 * An event as a row of the table it lands in: every field under its column (the field map in
 * force for the event's log source, or a column of the same name that no mapped field writes),
 * then the landing's constant columns the event does not state itself. With `reads`, only the
 * columns a query reads are written (and can make the event unrepresentable). Undefined when it
 * lands nowhere.
 */
export function placeEvent(
  model: KqlModel,
  event: JsonEvent,
  reads?: ReadonlySet<string>,
  table?: string,
): Placement | undefined {
  const all = landings(originOf(event), model.variant)
  const land = table === undefined ? all[0] : all.find((l) => l.table === table)
  // It lands, but not in the table asked for: the caller names where it went.
  if (!land) return all[0] ? { table: all[0].table, unrepresentable: `lands in ${all[0].table}` } : undefined
  const plan = planFor(model, land)
  if (!plan) return undefined
  if (land.security4688) {
    const r = as4688Record(event, ORIGIN_KEY)
    if ('lacks' in r) return { table: land.table, unrepresentable: `a Security 4688 record holds no ${r.lacks}` }
    event = r.event
  }
  const { columns, bags } = plan
  if (land.closed) {
    const why = outsideRecord(plan, land.closed, land.table, event)
    if (why) return { table: land.table, unrepresentable: why }
  }
  // Windows writes logon ids in hex (`0x3e7`); Sysmon for Linux does not.
  const windows = land.naming.product?.toLowerCase() === 'windows'
  // With `reads`, the row holds only the columns the query reads (of those the table has): no other
  // column can change the answer, and copying a wide table's empty row per event is the cost here.
  const row: Record<string, string | number | boolean | null | Record<string, unknown>> = {}
  if (reads) {
    for (const column of reads) {
      const empty = plan.emptyRow[column]
      if (empty !== undefined) row[column] = empty
    }
  } else Object.assign(row, plan.emptyRow)
  // Columns the event speaks for itself, even as null: the landing does not overwrite them.
  const stated = new Set<string>()
  const written = new Set<string>()
  const write = (sigma: string, spec: FieldSpec): string | undefined => {
    const type = columns[spec.column]
    if (type === undefined) return undefined
    const raw = lookup(event, sigma)
    if (raw === undefined) return undefined
    // A field a column takes is not a key of a bag, whether the query reads the column or not.
    written.add(sigma)
    // A column the query does not read cannot change its answer: it is left as the type's empty
    // value, and a value of another type there does not make the event unrepresentable.
    if (reads && !reads.has(spec.column) && !(spec.name !== undefined && reads.has(spec.name))) return undefined
    stated.add(spec.column)
    if (raw === '' && land.nonempty?.has(spec.column))
      return `${sigma} → ${land.table}.${spec.column}: a ${land.table} record never holds it as empty text`
    const v = columnValue(raw, type, windows && spec.column.endsWith('LogonId'))
    if ('reason' in v) return `${sigma} → ${land.table}.${spec.column}: ${v.reason}`
    row[spec.column] = v.value
    if (spec.name !== undefined && typeof v.value === 'string') row[spec.name] = afterLast(v.value, spec.separator)
    return undefined
  }
  // With a bag for every other field, a field is a column only through the map.
  // A name without a dot is found only as the event's own key (lookup): most are absent, and
  // skipping them here keeps placing an event proportional to its own fields.
  const absent = (name: string, dotted: boolean) => !dotted && !Object.prototype.hasOwnProperty.call(event, name)
  if (!plan.catchAll)
    for (const [column, spec, dotted] of plan.unmapped) {
      if (absent(column, dotted)) continue
      const why = write(column, spec)
      if (why) return { table: land.table, unrepresentable: why }
    }
  for (const [sigma, spec, dotted] of plan.fields) {
    if (absent(sigma, dotted)) continue
    const why = write(sigma, spec)
    if (why) return { table: land.table, unrepresentable: why }
  }
  for (const bag of bags) {
    if (reads && !reads.has(bag.column)) continue
    const why = fillBag(bag, event, written, row)
    if (why) return { table: land.table, unrepresentable: `${land.table}.${bag.column}: ${why}` }
  }
  for (const [column, v] of Object.entries(land.constants))
    if (columns[column] !== undefined && !stated.has(column)) row[column] = v
  for (const [sigma, [column, key]] of Object.entries(land.keyed ?? {})) {
    if (columns[column] !== 'dynamic' || (reads && !reads.has(column))) continue
    // The record always has the bag; a field it lacks is a key it lacks.
    const bag = row[column]
    row[column] = isMap(bag) ? bag : {}
    const raw = lookup(event, sigma)
    if (raw === undefined) continue
    if (raw !== null && typeof raw === 'object')
      return {
        table: land.table,
        unrepresentable: `${sigma} → ${land.table}.${column}.${key}: a list or map, not text`,
      }
    row[column] = { ...(isMap(bag) ? bag : {}), [key]: raw }
  }
  for (const [column, v] of Object.entries(land.says ?? {}))
    if (stated.has(column) && row[column] !== v)
      return {
        table: land.table,
        unrepresentable: `a ${land.table} record writes ${column} ${JSON.stringify(v)}, the event says ${JSON.stringify(row[column])}`,
      }
  for (const [column, v] of Object.entries(land.fixed ?? {})) if (columns[column] !== undefined) row[column] = v
  return { table: land.table, row }
}

/**
 * Why an event is no record of a table whose records hold only the `closed` columns: a field no
 * such column takes (through the field map, or a column of its name), or two fields for one column.
 * Null fields are none: the record leaves them out.
 */
function outsideRecord(
  plan: LandingPlan,
  closed: ReadonlySet<string>,
  table: string,
  event: JsonEvent,
): string | undefined {
  const taken = new Map<string, string>()
  for (const [key, value] of Object.entries(event)) {
    if (key === ORIGIN_KEY || value === undefined || value === null) continue
    const spec = plan.fields.find(([sigma]) => sigma === key)?.[1] ?? plan.unmapped.find(([c]) => c === key)?.[1]
    if (!spec || !closed.has(spec.column)) return `a ${table} record has no field ${key}`
    const other = taken.get(spec.column)
    if (other !== undefined) return `${other} and ${key} would both be ${table}.${spec.column}`
    taken.set(spec.column, key)
  }
  return undefined
}

/**
 * A bag column's value from the event's fields under its prefix (flat `a.b` keys and nested
 * objects alike), or why it has none: a key that is both a value and a prefix of another, or a
 * list or map where a Windows data value (text) stands.
 */
function fillBag(
  bag: Bag,
  event: JsonEvent,
  written: ReadonlySet<string>,
  row: Record<string, string | number | boolean | null | Record<string, unknown>>,
): string | undefined {
  const out: Record<string, unknown> = {}
  let any = false
  const put = (path: readonly string[], value: unknown): string | undefined => {
    let cur = out
    for (const k of path.slice(0, -1)) {
      const next = cur[k]
      if (next === undefined) cur = cur[k] = {}
      else if (isMap(next)) cur = next
      else return `key ${path.join('.')} lies under a value`
    }
    const leaf = must(path[path.length - 1], 'a key path has at least one part')
    if (Object.prototype.hasOwnProperty.call(cur, leaf)) return `key ${path.join('.')} is given twice`
    cur[leaf] = value
    any = true
    return undefined
  }
  for (const [key, value] of Object.entries(event)) {
    if (key === ORIGIN_KEY || written.has(key) || value === undefined) continue
    if (bag.prefix === '') {
      if (value === null) continue
      if (typeof value === 'object') return `${key} holds a ${Array.isArray(value) ? 'list' : 'map'}, not text`
      const why = put([key], typeof value === 'string' ? value : JSON.stringify(value))
      if (why) return why
      continue
    }
    if (key === bag.prefix && isMap(value)) {
      for (const [k, v] of Object.entries(value)) {
        const why = put([k], v)
        if (why) return why
      }
    } else if (key.startsWith(bag.prefix + '.')) {
      const path = key.slice(bag.prefix.length + 1).split('.')
      if (path.some((k) => k === '')) continue
      const why = put(path, value)
      if (why) return why
    }
  }
  if (bag.json) row[bag.column] = any ? JSON.stringify(out) : ''
  else row[bag.column] = any ? out : {}
  return undefined
}

/** The schema's tables: table → column → type name. */
function tablesOf(v: unknown): Record<string, Record<string, ColumnType>> {
  const tables: Record<string, Record<string, ColumnType>> = {}
  for (const [name, columns] of Object.entries(mapOf(v, "the schema's tables"))) {
    const typed: Record<string, ColumnType> = {}
    for (const [column, type] of Object.entries(mapOf(columns, name)))
      if (typeof type === 'string') typed[column] = type
    tables[name] = typed
  }
  return tables
}
