/**
 * The EQL verifier's model of Elasticsearch's records: where an event of each origin lands (its
 * ECS `event.category`, `event.code`, `winlog.channel`, and the data stream that holds it), how its
 * fields are indexed by type, and how an `ip` field holds an address. Written from Elastic's
 * documentation, apart from the backend's log-source map: test/conformance/landing.test.ts checks
 * that the two agree on the rule pack. Field names (Sigma field → ECS field) are read from the
 * target's field maps in targets/eql/target.yml (`match`, `fields`, `unmapped` only: never a
 * category or a constant), and field types from targets/eql/schema/ecs.yml.
 */
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { ORIGIN_KEY, originOf, type Origin } from '../origin.js'
import { targetPath } from '../paths.js'
import type { JsonEvent, LogSource } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { isMap, pipelineLogSources, readPipeline, stringMap } from './pipeline.js'
import { canonicalChannel, mostSpecific, place, SECURITY_4688 } from './winlog.js'
import { first, isOneOf, itemAt, mapOf } from '../guards.js'

export type FieldType = 'keyword' | 'constant_keyword' | 'wildcard' | 'long' | 'ip' | 'text' | 'flattened' | 'boolean'
const FIELD_TYPES: readonly FieldType[] = [
  'keyword',
  'constant_keyword',
  'wildcard',
  'long',
  'ip',
  'text',
  'flattened',
  'boolean',
]
function fieldType(t: string): FieldType {
  if (!isOneOf(FIELD_TYPES, t))
    throw new Error(`rulesmith: ecs.yml names the field type '${t}', which the EQL verifier does not model`)
  return t
}

/** String-valued mapping types: the ones EQL's string operators (`:`, `like`, `regex`) accept. */
export const isStringType = (t: FieldType): boolean => t === 'keyword' || t === 'constant_keyword' || t === 'wildcard'

export interface EqlLanding {
  /** ECS `event.category`; undefined when the integration sets none for such a record. */
  readonly category?: string
  /** ECS `event.type` (start, end, creation, deletion …), in `constants` when known. */
  /** Keyword fields every record of this kind has. */
  readonly constants: Readonly<Record<string, string>>
  /** The data stream (index) the record is written to. */
  readonly index: string
  /** The integration's pipeline drops null and empty values (`""`, `[]`, `{}`) before indexing. */
  readonly dropsEmpty?: boolean
  /**
   * Sigma fields whose value this event's record does not hold as the event states it (or holds
   * though the event states none), with the reason: the integration's pipeline puts something else
   * there for this event.
   */
  readonly unheld?: (event: JsonEvent) => readonly (readonly [sigma: string, reason: string])[]
  /**
   * Whether the integration's pipeline removes this field's value before indexing: the record does
   * not hold the field at all (absent, not empty), whatever the event states there.
   */
  readonly removes?: (sigma: string, raw: unknown) => boolean
  /** Sigma fields this record has no counterpart for: an event stating one is not such a record. */
  readonly lacks?: ReadonlySet<string>
  /** The value the integration's pipeline indexes for a field of the event (as written, unless it rewrites it). */
  readonly rewrite?: (sigma: string, raw: unknown, event: JsonEvent) => unknown
  /** Whose Sigma field names the record uses. */
  readonly naming: LogSource
}

/**
 * Sysmon records through Elastic's Windows integration (data stream
 * logs-windows.sysmon_operational-*), categorised per event id as the integration's ingest
 * pipeline does (https://docs.elastic.co/integrations/windows, "Sysmon/Operational"; ECS
 * categorisation: https://www.elastic.co/guide/en/ecs/current/ecs-allowed-values-event-category.html).
 */
const SYSMON_CATEGORY: Readonly<Record<number, readonly [category: string, type?: string]>> = {
  1: ['process', 'start'],
  2: ['file', 'change'],
  3: ['network', 'start'],
  // 4 (service state) and 16 (configuration change), 19 to 21 (WMI filter, consumer, binding):
  // the same pipeline's categorisation table (elastic/integrations
  // packages/windows/data_stream/sysmon_operational/elasticsearch/ingest_pipeline/default.yml).
  4: ['process', 'change'],
  16: ['configuration', 'change'],
  19: ['process', 'info'],
  20: ['process', 'change'],
  21: ['process', 'access'],
  5: ['process', 'end'],
  6: ['driver'],
  7: ['library'],
  8: ['process', 'change'],
  10: ['process', 'access'],
  11: ['file', 'creation'],
  12: ['registry'],
  13: ['registry', 'change'],
  14: ['registry', 'change'],
  15: ['file', 'creation'],
  17: ['file', 'creation'],
  18: ['file', 'access'],
  22: ['network', 'info'],
  23: ['file', 'deletion'],
  26: ['file', 'deletion'],
}

/** Other Windows channels: the integration's data stream per channel (winlogbeat-* otherwise). */
const CHANNEL_STREAMS: Readonly<Record<string, string>> = {
  security: 'logs-system.security-default',
  system: 'logs-system.system-default',
  application: 'logs-system.application-default',
  'microsoft-windows-sysmon/operational': 'logs-windows.sysmon_operational-default',
  'microsoft-windows-powershell/operational': 'logs-windows.powershell_operational-default',
  'windows powershell': 'logs-windows.powershell-default',
  'microsoft-windows-windows defender/operational': 'logs-windows.windows_defender-default',
}

/**
 * Microsoft 365 through the o365 integration (github.com/elastic/integrations,
 * packages/o365/data_stream/audit): every Office 365 Management Activity API record, whatever the
 * Sigma service, is in the one data stream o365.audit. Its ingest pipeline
 * (…/elasticsearch/ingest_pipeline/default.yml) names the record's schema in event.code from
 * RecordType (8 AzureActiveDirectory, 25 MicrosoftTeams), renames Operation to event.action, and
 * then replaces some actions of those two schemas with ECS-style ones. The record's Operation is
 * therefore indexed as this, for the event's own RecordType.
 */
const O365_ACTION_REWRITES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '8': {
    'Add user.': 'added-user-account',
    'Update user.': 'modified-user-account',
    'Delete user.': 'deleted-user-account',
  },
  '25': {
    TeamCreated: 'added-group-account-to',
    MemberAdded: 'added-users-to-group',
    'Delete user.': 'deleted-user-account',
  },
}

function o365Rewrite(sigma: string, raw: unknown, event: JsonEvent): unknown {
  if (sigma !== 'Operation' || typeof raw !== 'string') return raw
  // The pipeline looks the schema up by RecordType's text (`RecordType.toString()`).
  const type = event['RecordType']
  const key = typeof type === 'number' || typeof type === 'string' ? String(type) : undefined
  return (key !== undefined ? O365_ACTION_REWRITES[key]?.[raw] : undefined) ?? raw
}

/**
 * Entra ID audit records through the azure integration's auditlogs pipeline
 * (packages/azure/data_stream/auditlogs/elasticsearch/ingest_pipeline/default.yml in
 * elastic/integrations): properties.result is renamed to event.outcome only when it is text whose
 * lower case (Java's String.toLowerCase, as JavaScript's for these letters) is success or failure;
 * the azure shared pipeline then lowercases event.outcome (…/azure-shared-pipeline.yml). Any other
 * result stays under azure.auditlogs.properties.result, so event.outcome does not hold it.
 */
function entraAuditRewrite(sigma: string, raw: unknown): unknown {
  if (sigma !== 'properties.result') return raw
  if (typeof raw !== 'string') return undefined
  const lower = raw.toLowerCase()
  return lower === 'success' || lower === 'failure' ? lower : undefined
}

/**
 * A directory audit's result is one text value (Microsoft Graph's directoryAudit `result`, an
 * operationResult: https://learn.microsoft.com/graph/api/resources/directoryaudit): an event stating
 * anything else there is no such record.
 */
function entraAuditUnheld(event: JsonEvent): [string, string][] {
  const props = event['properties']
  const nested = isMap(props) ? props['result'] : undefined
  const held = [event['properties.result'], nested].filter((v) => v !== undefined && v !== null)
  return held.some((v) => typeof v !== 'string') ? [['properties.result', 'a directory audit result is text']] : []
}

/**
 * Linux and macOS through Elastic Defend (data streams logs-endpoint.events.<kind>-*,
 * https://www.elastic.co/guide/en/security/current/endpoint-event-capture.html), auditd records
 * through Filebeat's auditd module (no event category: one record per audit line), web and proxy
 * logs through their integrations.
 */
const OTHER: readonly {
  readonly match: Readonly<Record<string, string>>
  readonly land: Omit<EqlLanding, 'naming'>
}[] = [
  {
    match: { category: 'process_creation' },
    land: { category: 'process', constants: { 'event.type': 'start' }, index: 'logs-endpoint.events.process-default' },
  },
  {
    match: { category: 'file_event' },
    land: { category: 'file', constants: { 'event.type': 'creation' }, index: 'logs-endpoint.events.file-default' },
  },
  {
    match: { category: 'network_connection' },
    land: { category: 'network', constants: { 'event.type': 'start' }, index: 'logs-endpoint.events.network-default' },
  },
  { match: { product: 'linux', service: 'auditd' }, land: { constants: {}, index: 'logs-auditd.log-default' } },
  // Windows file access and rename, recorded by Elastic Defend's file events (no Windows event-log record).
  {
    match: { product: 'windows', category: 'file_access' },
    land: { category: 'file', constants: { 'event.type': 'access' }, index: 'logs-endpoint.events.file-default' },
  },
  // A rename is event.action rename (Elastic's prebuilt rules select renames so), its old path in
  // file.Ext.original.path (elastic/endpoint-package package/endpoint/data_stream/file/fields/fields.yml).
  {
    match: { product: 'windows', category: 'file_rename' },
    land: {
      category: 'file',
      constants: { 'event.type': 'change', 'event.action': 'rename' },
      index: 'logs-endpoint.events.file-default',
    },
  },
  { match: { category: 'webserver' }, land: { category: 'web', constants: {}, index: 'logs-nginx.access-default' } },
  { match: { category: 'proxy' }, land: { category: 'network', constants: {}, index: 'logs-squid.log-default' } },
  // Cloud and SaaS audit logs through Elastic's integrations: one data stream each, event.dataset
  // set to the integration's dataset (github.com/elastic/integrations, packages/<name>/data_stream/<ds>);
  // the CloudTrail, GitHub and Bitbucket ingest pipelines drop null and empty values from the whole
  // document (packages/aws/data_stream/cloudtrail/elasticsearch/ingest_pipeline/default.yml, "Drops
  // null/empty values recursively"; packages/github/data_stream/audit/…/default.yml,
  // packages/atlassian_bitbucket/data_stream/audit/…/default.yml).
  {
    match: { product: 'aws', service: 'cloudtrail' },
    land: { constants: { 'event.dataset': 'aws.cloudtrail' }, index: 'logs-aws.cloudtrail-default', dropsEmpty: true },
  },
  {
    match: { product: 'azure', service: 'activitylogs' },
    land: { constants: { 'event.dataset': 'azure.activitylogs' }, index: 'logs-azure.activitylogs-default' },
  },
  {
    match: { product: 'azure', service: 'auditlogs' },
    land: {
      constants: { 'event.dataset': 'azure.auditlogs' },
      index: 'logs-azure.auditlogs-default',
      rewrite: entraAuditRewrite,
      unheld: entraAuditUnheld,
    },
  },
  {
    match: { product: 'azure', service: 'signinlogs' },
    land: { constants: { 'event.dataset': 'azure.signinlogs' }, index: 'logs-azure.signinlogs-default' },
  },
  {
    match: { product: 'azure', service: 'riskdetection' },
    land: {
      constants: { 'event.dataset': 'azure.identity_protection' },
      index: 'logs-azure.identity_protection-default',
    },
  },
  // The Okta pipeline drops null and empty values from the whole document too, before any rename
  // (packages/okta/data_stream/system/elasticsearch/ingest_pipeline/default.yml, "Drops null/empty
  // values recursively").
  {
    match: { product: 'okta', service: 'okta' },
    land: { constants: { 'event.dataset': 'okta.system' }, index: 'logs-okta.system-default', dropsEmpty: true },
  },
  {
    match: { product: 'gcp', service: 'gcp.audit' },
    land: { constants: { 'event.dataset': 'gcp.audit' }, index: 'logs-gcp.audit-default' },
  },
  {
    match: { product: 'github', service: 'audit' },
    land: { constants: { 'event.dataset': 'github.audit' }, index: 'logs-github.audit-default', dropsEmpty: true },
  },
  {
    match: { product: 'bitbucket', service: 'audit' },
    land: {
      constants: { 'event.dataset': 'atlassian_bitbucket.audit' },
      index: 'logs-atlassian_bitbucket.audit-default',
      dropsEmpty: true,
    },
  },
  // Zeek's logs through the zeek integration: data stream logs-zeek.<log>-*, event.dataset
  // zeek.<log> (packages/zeek/data_stream/<log>/sample_event.json).
  ...['dns', 'smb_files', 'dce_rpc', 'kerberos', 'rdp', 'x509'].map((log) => ({
    match: { product: 'zeek', service: log },
    land: { constants: { 'event.dataset': `zeek.${log}` }, index: `logs-zeek.${log}-default` },
  })),
  {
    match: { product: 'zeek', service: 'http' },
    land: { constants: { 'event.dataset': 'zeek.http' }, index: 'logs-zeek.http-default', unheld: zeekHttpUnheld },
  },
  {
    match: { product: 'kubernetes', service: 'audit' },
    land: { constants: { 'event.dataset': 'kubernetes.audit_logs' }, index: 'logs-kubernetes.audit_logs-default' },
  },
  // Microsoft 365 and Google Workspace (o365, google_workspace): see O365_AUDIT below.
  ...['audit', 'exchange', 'threat_detection', 'threat_management'].map((service) => ({
    match: { product: 'm365', service },
    land: {
      constants: { 'event.dataset': 'o365.audit' },
      index: 'logs-o365.audit-default',
      rewrite: o365Rewrite,
    },
  })),
  {
    match: { product: 'gcp', service: 'google_workspace.admin' },
    land: { constants: { 'event.dataset': 'google_workspace.admin' }, index: 'logs-google_workspace.admin-default' },
  },
  // ESXi syslog through the VMware vSphere integration: the syslog program in process.name.
  {
    match: { product: 'esxi', service: 'shell' },
    land: { constants: { 'process.name': 'shell' }, index: 'logs-vsphere.log-default' },
  },
  // --- issue 14: network and identity integrations ---
  // FortiOS event logs (type=event) through the fortinet_fortigate integration. Its pipeline
  // (packages/fortinet_fortigate/data_stream/log/elasticsearch/ingest_pipeline/default.yml) reads
  // the syslog text's key="value" pairs: control characters are removed from the text first, a
  // value is unquoted (a `"` inside it cannot come through), values "N/A" are removed and null or
  // empty values dropped from the whole document.
  {
    match: { product: 'fortigate', service: 'event' },
    land: {
      constants: { 'event.dataset': 'fortinet_fortigate.log', 'fortinet.firewall.type': 'event' },
      index: 'logs-fortinet_fortigate.log-default',
      dropsEmpty: true,
      unheld: (e) =>
        textsMatching(
          e,
          undefined,
          /^N\/A$|["\u0000-\u001f\u007f]/,
          'FortiOS key=value text cannot carry it as written, or the pipeline drops it',
        ),
    },
  },
  // Duo's authentication log through the cisco_duo integration: null and empty values dropped
  // (packages/cisco_duo/data_stream/auth/elasticsearch/ingest_pipeline/default.yml).
  {
    match: { product: 'cisco', service: 'duo' },
    land: {
      category: 'authentication',
      constants: { 'event.dataset': 'cisco_duo.auth', 'event.type': 'info' },
      index: 'logs-cisco_duo.auth-default',
      dropsEmpty: true,
    },
  },
  // DNS transactions through the network_traffic integration (Packetbeat): event.category network
  // (packages/network_traffic/data_stream/dns/sample_event.json). Names are written in printable
  // ASCII with other characters, backslashes and quotes escaped (ECS dns.question.name,
  // https://www.elastic.co/guide/en/ecs/current/ecs-dns.html); record types as their mnemonic. A
  // value outside that, a name ending in a dot, or an empty one is left out rather than guessed.
  {
    match: { category: 'dns' },
    land: {
      category: 'network',
      constants: { 'event.dataset': 'network_traffic.dns' },
      index: 'logs-network_traffic.dns-default',
      unheld: (e) => [
        ...textsMatching(e, ['query'], /^$|[^\x20-\x7e]|["\\]|\.$/, 'Packetbeat escapes or trims it'),
        ...textsMatching(e, ['answer'], /^$|[^\x20-\x7e]|["\\]/, 'Packetbeat escapes it'),
        ...textsMatching(e, ['record_type'], /^$|[^A-Z0-9]/, 'not a record type mnemonic'),
      ],
    },
  },
]

/**
 * The event's fields (of `fields`, or all of them) holding a string the pattern finds: text the
 * integration does not hold as written, with the reason.
 */
function textsMatching(
  event: JsonEvent,
  fields: readonly string[] | undefined,
  pattern: RegExp,
  why: string,
): [string, string][] {
  return Object.entries(event)
    .filter(([k]) => k !== ORIGIN_KEY && (fields === undefined || fields.includes(k)))
    .filter(([, v]) => (Array.isArray(v) ? v : [v]).some((x) => typeof x === 'string' && pattern.test(x)))
    .map(([k]) => [k, why])
}

/**
 * Zeek http.log through the zeek integration's pipeline
 * (packages/zeek/data_stream/http/elasticsearch/ingest_pipeline/default.yml in elastic/integrations):
 * `uri` goes through the uri_parts processor, whose url.domain is the URI's host
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/uri-parts-processor.html); the
 * pipeline then renames `host` to url.domain, and a rename onto a field that exists throws
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/rename-processor.html), which
 * ends the pipeline before `user_agent` is renamed to user_agent.original. Only a path (one leading
 * `/`, RFC 3986 §4.2's absolute-path reference) carries no host, so for any other uri url.domain and
 * user_agent.original are not what the event states. url.original is mapped with ignore_above 1024
 * (packages/zeek/data_stream/http/fields/ecs.yml): a longer uri is not indexed.
 */
function zeekHttpUnheld(event: JsonEvent): [string, string][] {
  const out: [string, string][] = []
  const uri = event['uri']
  if (uri !== undefined && uri !== null && !(typeof uri === 'string' && /^\/(?!\/)/.test(uri)))
    out.push(['host', 'a uri with a host puts it there'], ['user_agent', 'not renamed once the host rename fails'])
  if (overIgnoreAbove(uri)) out.push(['uri', `over ignore_above ${IGNORE_ABOVE}`])
  return out
}

/**
 * Security 4688 ("A new process has been created") through the System integration
 * (logs-system.security-*): event.category process, event.type start, event.action created-process
 * (packages/system/data_stream/security/elasticsearch/ingest_pipeline/standard.yml in
 * elastic/integrations), the new process's path, its creator's path and the command line as
 * process.executable, process.parent.executable and process.command_line. Stated with Sigma's
 * process-creation names (Image, ParentImage, CommandLine), as the proof states such records; the
 * other fields of Sysmon's process creation have no counterpart in a 4688 record (hashes, PE
 * metadata, the new process's user and integrity level, its directory, decimal process ids: 4688's
 * ProcessId is the creator's, in hex), so an event stating one is no 4688 record.
 */
const SECURITY_4688_LACKS: ReadonlySet<string> = SECURITY_4688.unknown

/**
 * Both Sysmon pipelines, the Windows integration's and Winlogbeat's, begin by removing every event
 * data entry whose value is null, `""`, `"-"` or the zero GUID ("Remove all empty values from
 * event_data": a painless `removeIf` over `winlog.event_data` testing `[null, "", "-",
 * "{00000000-0000-0000-0000-000000000000}"].contains(value)`, an exact, case-sensitive comparison
 * of the whole value; elastic/integrations packages/windows/data_stream/sysmon_operational/
 * elasticsearch/ingest_pipeline/default.yml, elastic/beats x-pack/winlogbeat/module/sysmon/ingest/
 * sysmon.yml), before any rename: the record does not hold such a field at all. The winlog system
 * fields (channel, event id, provider, computer) are not event data and stay. Winlogbeat writes event
 * data values as strings; a list value is not one of these strings and stays.
 */
function sysmonRemoves(sigma: string, raw: unknown): boolean {
  return !SECURITY_4688.system.has(sigma) && typeof raw === 'string' && SYSMON_REMOVED.has(raw)
}
const SYSMON_REMOVED: ReadonlySet<string> = new Set(['', '-', '{00000000-0000-0000-0000-000000000000}'])

export function landing(origin: Origin | undefined): EqlLanding | undefined {
  const p = place(origin)
  if (!p) return undefined
  const r = p.record
  if (r && r.channel.toLowerCase() === 'security' && r.eventId === 4688)
    return {
      category: 'process',
      constants: {
        'event.type': 'start',
        'winlog.channel': 'Security',
        'winlog.event_id': '4688',
        'event.code': '4688',
      },
      index: 'logs-system.security-default',
      naming: p.logsource,
      lacks: SECURITY_4688_LACKS,
    }
  if (r) {
    const channel = r.channel.toLowerCase()
    const sysmon = channel === 'microsoft-windows-sysmon/operational'
    const powershell = channel === 'microsoft-windows-powershell/operational' || channel === 'windows powershell'
    // PowerShell's script block, module and engine events are process activity to the integration.
    const [category, type] =
      sysmon && r.eventId !== undefined ? (SYSMON_CATEGORY[r.eventId] ?? []) : powershell ? ['process'] : []
    return {
      ...(category !== undefined ? { category } : {}),
      constants: {
        ...(type !== undefined ? { 'event.type': type } : {}),
        'winlog.channel': canonicalChannel(r.channel),
        ...(r.eventId !== undefined ? { 'winlog.event_id': String(r.eventId), 'event.code': String(r.eventId) } : {}),
      },
      index: CHANNEL_STREAMS[channel] ?? 'winlogbeat-default',
      naming: p.logsource,
      ...(sysmon ? { removes: sysmonRemoves } : {}),
    }
  }
  const hit = mostSpecific(OTHER, p.logsource)
  return hit ? { ...hit.land, naming: p.logsource } : undefined
}

// --- field names and types ---------------------------------------------------------------------

export interface Schema {
  readonly fields: ReadonlyMap<string, FieldType>
  readonly prefixes: readonly (readonly [string, FieldType])[]
}

interface Naming {
  readonly match: Readonly<Record<string, string>>
  readonly fields: Readonly<Record<string, string>>
  readonly unmapped?: string
}

export interface EqlModel {
  readonly schema: Schema
  readonly fields: Readonly<Record<string, string>>
  readonly namings: readonly Naming[]
}

let schema: Schema | undefined
let shipped: Record<string, unknown> | undefined
const models = new Map<string, EqlModel | string>()

function readSchema(): Schema {
  const doc = mapOf(yaml.load(readFileSync(targetPath('eql', 'schema', 'ecs.yml'), 'utf8')), 'ecs.yml')
  const fields = new Map<string, FieldType>()
  for (const [k, t] of Object.entries(stringMap(doc['fields']))) fields.set(k, fieldType(t))
  const prefixes = Object.entries(stringMap(doc['prefixes'])).map(([p, t]) => [p, fieldType(t)] as const)
  return { fields, prefixes }
}

export function typeOf(s: Schema, name: string): FieldType | undefined {
  const t = s.fields.get(name)
  if (t) return t
  for (const [prefix, type] of s.prefixes) if (name.startsWith(prefix) && name.length > prefix.length) return type
  return undefined
}

export function eqlModel(options: TargetOptions = {}): EqlModel | string {
  const key = options.pipeline ?? ''
  let m = models.get(key)
  if (m === undefined) {
    schema ??= readSchema()
    shipped ??= mapOf(yaml.load(readFileSync(targetPath('eql', 'target.yml'), 'utf8')), 'target.yml')
    const user = options.pipeline !== undefined ? readPipeline(options.pipeline) : {}
    if (typeof user === 'string') m = user
    else {
      const namings = new Map<string, Naming>()
      for (const doc of [shipped, user])
        for (const { name, match, entry } of pipelineLogSources(doc))
          namings.set(name, {
            match,
            fields: stringMap(entry['fields']),
            ...(typeof entry['unmapped'] === 'string' ? { unmapped: entry['unmapped'] } : {}),
          })
      m = {
        schema,
        fields: { ...stringMap(shipped['fields']), ...stringMap(user['fields']) },
        namings: [...namings.values()],
      }
    }
    models.set(key, m)
  }
  return m
}

// --- records -----------------------------------------------------------------------------------

/**
 * What a present value becomes once indexed, for values Elasticsearch cannot index in the field's
 * type (an object in a keyword, `"abc"` in a long): the field is present but matches no value.
 */
export const UNSEARCHABLE: unique symbol = Symbol('unsearchable')
export type IndexedValue = string | number | typeof UNSEARCHABLE

export interface MappedEvent {
  readonly values: ReadonlyMap<string, readonly IndexedValue[]>
  /** ECS fields whose value Elasticsearch would not hold as written (coerced or rejected). */
  readonly inexact: readonly string[]
}

/**
 * An address as Elasticsearch's `ip` field holds it: IPv4 or IPv6, an IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d`) stored as the IPv4 address
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/ip.html).
 */
export function ipAddress(text: string): { value: bigint; family: 4 | 6 } | undefined {
  const v4 = ipv4(text)
  if (v4 !== undefined) return { value: v4, family: 4 }
  const v6 = ipv6(text)
  if (v6 === undefined) return undefined
  return v6 >> 32n === 0xffffn ? { value: v6 & 0xffffffffn, family: 4 } : { value: v6, family: 6 }
}

function ipv4(text: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (!m) return undefined
  let v = 0n
  for (const part of m.slice(1)) {
    if ((part.length > 1 && part.startsWith('0')) || Number(part) > 255) return undefined
    v = (v << 8n) | BigInt(part)
  }
  return v
}

function ipv6(text: string): bigint | undefined {
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return undefined
  let body = text
  let low: bigint | undefined
  const last = text.lastIndexOf(':')
  if (text.includes('.')) {
    low = ipv4(text.slice(last + 1))
    if (low === undefined) return undefined
    body = text.slice(0, last + 1) + '0:0'
  }
  const halves = body.split('::')
  if (halves.length > 2) return undefined
  const split = (s: string): string[] => (s === '' ? [] : s.split(':'))
  const head = split(first(halves))
  const tail = halves.length === 2 ? split(itemAt(halves, 1)) : []
  const n = head.length + tail.length
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined
  let v = 0n
  for (const g of [...head, ...Array.from({ length: 8 - n }, () => '0'), ...tail]) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined
    v = (v << 16n) | BigInt(parseInt(g, 16))
  }
  return low === undefined ? v : (v & ~0xffffffffn) | low
}

/** A CIDR range as `cidrMatch` takes it (E2: IPv4 and IPv6), or undefined. */
export function cidrRange(text: string): { family: 4 | 6; network: bigint; prefix: number } | undefined {
  const slash = text.indexOf('/')
  const a = ipAddress(slash < 0 ? text : text.slice(0, slash))
  if (!a) return undefined
  const bits = a.family === 4 ? 32 : 128
  const p = slash < 0 ? String(bits) : text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return undefined
  const prefix = Number(p)
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix)
  return { family: a.family, network: a.value & mask, prefix }
}

export function inCidr(text: string, cidr: string): boolean {
  const a = ipAddress(text)
  const c = cidrRange(cidr)
  if (!a || !c || a.family !== c.family) return false
  const bits = c.family === 4 ? 32 : 128
  const mask = c.prefix === 0 ? 0n : ((1n << BigInt(c.prefix)) - 1n) << BigInt(bits - c.prefix)
  return (a.value & mask) === c.network
}

/**
 * A value as Elasticsearch indexes it in a field of this type: keyword values are strings (numbers
 * and booleans as their text, https://www.elastic.co/guide/en/elasticsearch/reference/current/keyword.html);
 * long coerces numeric strings and truncates fractions
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/coerce.html); ip takes address
 * text; arrays hold one value per element and nulls none
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/null-value.html).
 */
function indexValue(v: unknown, type: FieldType): IndexedValue[] {
  if (v === null || v === undefined) return []
  if (Array.isArray(v)) return v.flatMap((x) => indexValue(x, type))
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'text':
      if (typeof v === 'string') return [v]
      if (typeof v === 'number' || typeof v === 'boolean') return [JSON.stringify(v)]
      return [UNSEARCHABLE]
    case 'long': {
      const n =
        typeof v === 'number'
          ? v
          : typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)
            ? Number(v)
            : NaN
      return Number.isFinite(n) ? [Math.trunc(n)] : [UNSEARCHABLE]
    }
    case 'ip':
      return typeof v === 'string' && ipAddress(v) ? [v] : [UNSEARCHABLE]
    case 'flattened':
    case 'boolean':
      // No EQL comparison reads these (the reader rejects them): held, never matched.
      return [UNSEARCHABLE]
  }
}

/** True when Elasticsearch holds `v` in a field of this type as written, without coercing it. */
function heldExactly(v: unknown, type: FieldType): boolean {
  if (v === null || v === undefined) return true
  if (Array.isArray(v)) return v.every((x) => heldExactly(x, type))
  switch (type) {
    case 'long':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?(0|[1-9]\d*)$/.test(v))
    case 'ip':
      return typeof v === 'string' && ipAddress(v) !== undefined && !/^::ffff:(\d+\.){3}\d+$/i.test(v)
    default:
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
  }
}

/**
 * ECS maps keyword fields with `ignore_above: 1024`
 * (https://www.elastic.co/guide/en/ecs/current/ecs-guidelines.html); "Strings longer than the
 * ignore_above setting will not be indexed or stored", per array element
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/ignore-above.html). No query
 * finds such a value, so the event is one no query can judge. Wildcard fields have no such limit.
 */
const IGNORE_ABOVE = 1024
function overIgnoreAbove(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(overIgnoreAbove)
  return typeof v === 'string' && [...v].length > IGNORE_ABOVE
}

/** `""`, `[]` or `{}` anywhere in a value: what the CloudTrail and GitHub pipelines drop. */
function holdsEmpty(v: unknown): boolean {
  if (v === '') return true
  if (Array.isArray(v)) return v.length === 0 || v.some(holdsEmpty)
  if (isMap(v)) return Object.keys(v).length === 0 || Object.values(v).some(holdsEmpty)
  return false
}

/** Every name an event's value can be read under: its keys, then dotted paths into nested objects. */
function names(event: JsonEvent): [string, unknown][] {
  const out: [string, unknown][] = []
  const seen = new Set<string>()
  const queue: [string, unknown][] = Object.entries(event).filter(([k]) => k !== ORIGIN_KEY)
  for (let i = 0; i < queue.length; i++) {
    const [name, v] = itemAt(queue, i)
    if (seen.has(name)) continue
    seen.add(name)
    out.push([name, v])
    if (isMap(v)) for (const [k, x] of Object.entries(v)) if (!k.includes('.')) queue.push([`${name}.${k}`, x])
  }
  return out
}

/**
 * An event as the record Elasticsearch would hold where it lands: each field under its ECS name
 * (the field map for the event's log source; a name no map gives is under the log source's
 * `unmapped` prefix, or not indexed), indexed by its type; then the landing's category and constant
 * fields the event does not state itself. Undefined when it lands nowhere.
 */
export function eqlRecord(model: EqlModel, event: JsonEvent): MappedEvent | undefined {
  const land = landing(originOf(event))
  if (!land) return undefined
  const naming = mostSpecific(model.namings, land.naming)
  const values = new Map<string, IndexedValue[]>()
  const inexact: string[] = []
  // ECS fields the event speaks for itself, even as null: the landing does not overwrite them.
  const stated = new Set<string>()
  for (const [sigma, written] of names(event)) {
    const raw = land.rewrite ? land.rewrite(sigma, written, event) : written
    const ecs = naming?.fields[sigma] ?? model.fields[sigma] ?? (naming?.unmapped ? naming.unmapped + sigma : undefined)
    if (ecs === undefined) continue
    const type = typeOf(model.schema, ecs)
    if (type === undefined) continue
    // A value the pipeline drops is not in the record: the field is absent, which no event with
    // that value can be (Sigma tells "" from absent).
    if (land.lacks?.has(sigma) && raw !== null && raw !== undefined) {
      inexact.push(`${ecs} (no such record holds ${sigma})`)
      continue
    }
    // A value the pipeline removes leaves the field absent from the record, as if never stated.
    if (land.removes?.(sigma, raw)) continue
    if (land.dropsEmpty && holdsEmpty(raw)) {
      inexact.push(`${ecs} (dropped as empty by the integration's pipeline)`)
      continue
    }
    stated.add(ecs)
    if (!heldExactly(raw, type)) inexact.push(ecs)
    else if (type === 'keyword' && overIgnoreAbove(raw)) inexact.push(`${ecs} (over ignore_above ${IGNORE_ABOVE})`)
    const indexed = indexValue(raw, type)
    // A keyword value over ignore_above is in the source but not in the index: no query finds it.
    const searched = type === 'keyword' ? indexed.map((x) => (overIgnoreAbove(x) ? UNSEARCHABLE : x)) : indexed
    values.set(ecs, [...(values.get(ecs) ?? []), ...searched])
  }
  for (const [sigma, reason] of land.unheld?.(event) ?? []) {
    const ecs = naming?.fields[sigma] ?? model.fields[sigma] ?? (naming?.unmapped ? naming.unmapped + sigma : undefined)
    if (ecs !== undefined) inexact.push(`${ecs} (${reason})`)
  }
  for (const [f, v] of Object.entries(land.constants)) if (!stated.has(f)) values.set(f, [v])
  // Winlogbeat writes the channel a record was logged in: a record placed in System whose own
  // Channel says otherwise (null, another spelling) cannot be held as written.
  const channel = land.constants['winlog.channel']
  if (channel !== undefined && stated.has('winlog.channel')) {
    const own = values.get('winlog.channel') ?? []
    if (own.length !== 1 || own[0] !== channel) inexact.push('winlog.channel')
  }
  if (land.category !== undefined && !stated.has('event.category')) values.set('event.category', [land.category])
  return { values, inexact }
}
