/**
 * The SPL verifier's model of Splunk's events: where an event of each origin lands (its `source`,
 * `sourcetype` and `EventCode`), how its fields are extracted, and how Splunk compares an address
 * with a subnet. Written from Splunk's documentation, apart from the backend's log-source map
 * (the `search` terms of targets/spl/target.yml): test/conformance/landing.test.ts checks that the
 * two agree on the rule pack, and the proof catches a query whose log-source terms do not fit where
 * events land. Field names (Sigma field → Splunk field, e.g. EventID → EventCode as the Windows
 * add-on extracts it) are read from the target's field maps (`match` and `fields` only).
 */
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { ORIGIN_KEY, originOf } from '../origin.js'
import { targetPath } from '../paths.js'
import type { JsonEvent } from '../rule/rule.js'
import { isMap, pipelineLogSources, readPipeline, stringMap } from './pipeline.js'
import { isSecurity4688 as isSecurity4688Record, mostSpecific, place, SECURITY_4688, type Placed } from './winlog.js'
import { first, itemAt, mapOf, must, textAt } from '../guards.js'

/**
 * A Splunk event as the verifier sees it: field name → its values. A field is present only with at
 * least one value; several values make a multivalue field.
 */
export type SplRecord = ReadonlyMap<string, readonly string[]>

/**
 * Windows event logs read by the Splunk Add-on for Microsoft Windows with `renderXml = true` (the
 * add-on's default for the Sysmon and PowerShell inputs): `source` is `XmlWinEventLog:<channel>`,
 * `sourcetype` `XmlWinEventLog`, and the event id is extracted as `EventCode`
 * (https://docs.splunk.com/Documentation/WindowsAddOn/latest/User/SourcetypesandCIMdatamodelinfo,
 * https://docs.splunk.com/Documentation/AddOns/released/MSSysmon/Sourcetypes).
 */
const WINDOWS_SOURCE_PREFIX = 'XmlWinEventLog:'

/**
 * Everything else, by Sigma log source: the sourcetypes of the Splunk add-ons that read them
 * (Sysmon for Linux: https://splunkbase.splunk.com/app/6652, EventCode as on Windows; Unix and
 * Linux: https://docs.splunk.com/Documentation/AddOns/released/UnixLinux/Sourcetypes; the
 * cloud add-ons' sourcetypes on their Splunkbase pages). macOS has no single add-on: the verifier
 * takes Endpoint Security events indexed as `macos:endpoint_security` with their `event_type`
 * (https://developer.apple.com/documentation/endpointsecurity/es_event_type_t: exec, create).
 */
const OTHER: readonly { readonly match: Readonly<Record<string, string>>; readonly fields: Record<string, string> }[] =
  [
    {
      match: { product: 'linux', category: 'process_creation' },
      fields: { sourcetype: 'sysmon:linux', EventCode: '1' },
    },
    {
      match: { product: 'linux', category: 'network_connection' },
      fields: { sourcetype: 'sysmon:linux', EventCode: '3' },
    },
    { match: { product: 'linux', category: 'file_event' }, fields: { sourcetype: 'sysmon:linux', EventCode: '11' } },
    { match: { product: 'linux', service: 'auditd' }, fields: { sourcetype: 'linux:audit' } },
    { match: { product: 'linux', service: 'auth' }, fields: { sourcetype: 'linux_secure' } },
    { match: { product: 'linux', service: 'sshd' }, fields: { sourcetype: 'linux_secure' } },
    { match: { product: 'linux', service: 'sudo' }, fields: { sourcetype: 'linux_secure' } },
    { match: { product: 'linux', service: 'syslog' }, fields: { sourcetype: 'syslog' } },
    { match: { product: 'linux', service: 'cron' }, fields: { sourcetype: 'syslog' } },
    { match: { product: 'linux' }, fields: { sourcetype: 'syslog' } },
    {
      match: { product: 'macos', category: 'process_creation' },
      fields: { sourcetype: 'macos:endpoint_security', event_type: 'exec' },
    },
    {
      match: { product: 'macos', category: 'file_event' },
      fields: { sourcetype: 'macos:endpoint_security', event_type: 'create' },
    },
    { match: { product: 'aws', service: 'cloudtrail' }, fields: { sourcetype: 'aws:cloudtrail' } },
    { match: { product: 'azure', service: 'signinlogs' }, fields: { sourcetype: 'azure:monitor:aad' } },
    { match: { product: 'azure', service: 'auditlogs' }, fields: { sourcetype: 'azure:monitor:aad' } },
    { match: { product: 'azure', service: 'riskdetection' }, fields: { sourcetype: 'azure:monitor:aad' } },
    { match: { product: 'azure', service: 'pim' }, fields: { sourcetype: 'azure:monitor:aad' } },
    { match: { product: 'azure', service: 'activitylogs' }, fields: { sourcetype: 'azure:monitor:activity' } },
    { match: { product: 'gcp', service: 'gcp.audit' }, fields: { sourcetype: 'google:gcp:pubsub:message' } },
    { match: { product: 'gcp', service: 'google_workspace.admin' }, fields: { sourcetype: 'gws:reports:admin' } },
    { match: { product: 'gcp', service: 'google_workspace.login' }, fields: { sourcetype: 'gws:reports:login' } },
    { match: { product: 'm365' }, fields: { sourcetype: 'o365:management:activity' } },
    { match: { product: 'okta', service: 'okta' }, fields: { sourcetype: 'OktaIM2:log' } },
    { match: { product: 'github', service: 'audit' }, fields: { sourcetype: 'github:enterprise:audit' } },
    { match: { product: 'kubernetes', service: 'audit' }, fields: { sourcetype: 'kube:apiserver:audit' } },
    { match: { category: 'webserver' }, fields: { sourcetype: 'access_combined' } },
    { match: { category: 'proxy' }, fields: { sourcetype: 'bluecoat:proxysg:access:syslog' } },
    { match: { category: 'dns' }, fields: { sourcetype: 'stream:dns' } },
    { match: { category: 'firewall' }, fields: { sourcetype: 'pan:traffic' } },
    { match: { product: 'zeek', service: 'dns' }, fields: { sourcetype: 'bro:dns:json' } },
    { match: { product: 'zeek', service: 'http' }, fields: { sourcetype: 'bro:http:json' } },
    { match: { product: 'zeek', service: 'smb_files' }, fields: { sourcetype: 'bro:smb_files:json' } },
    { match: { product: 'zeek', service: 'dce_rpc' }, fields: { sourcetype: 'bro:dce_rpc:json' } },
    { match: { product: 'zeek', service: 'x509' }, fields: { sourcetype: 'bro:x509:json' } },
    { match: { product: 'zeek', service: 'rdp' }, fields: { sourcetype: 'bro:rdp:json' } },
    { match: { product: 'zeek', service: 'kerberos' }, fields: { sourcetype: 'bro:kerberos:json' } },
    { match: { product: 'cisco', service: 'aaa' }, fields: { sourcetype: 'cisco:ios' } },
    // ESXi syslog through the Splunk Add-on for VMware ESXi Logs (https://splunkbase.splunk.com/app/5603).
    { match: { product: 'esxi' }, fields: { sourcetype: 'vmw-syslog' } },
    { match: { product: 'fortigate', service: 'event' }, fields: { sourcetype: 'fortigate_event' } },
    // Apache's error log: Splunk's pretrained sourcetype apache_error
    // (https://help.splunk.com/splunk-enterprise/get-data-in/getting-data-in/9.4/configure-source-types/list-of-pretrained-source-types).
    { match: { service: 'apache' }, fields: { sourcetype: 'apache_error' } },
    // RPC Firewall audits RPC calls into its own event log, RPCFW
    // (https://github.com/zeronetworks/rpcfirewall, "Events"); read by the Windows add-on like any channel.
    {
      match: { product: 'rpc_firewall' },
      fields: { source: WINDOWS_SOURCE_PREFIX + 'RPCFW', sourcetype: 'XmlWinEventLog' },
    },
    // A Windows event of no stated channel: some Windows event log.
    {
      match: { product: 'windows' },
      fields: { source: WINDOWS_SOURCE_PREFIX + 'Application', sourcetype: 'XmlWinEventLog' },
    },
    // Logs no Splunk add-on reads: the reference site indexes each under a sourcetype named after its
    // Sigma log source, `sigma:<product or category>[:<service>]` [our convention, the same text the
    // shipped macros hold; a site that indexes them elsewhere redefines the macro and re-verifies].
    { match: { service: 'nginx' }, fields: { sourcetype: 'sigma:nginx' } },
    { match: { product: 'opencanary' }, fields: { sourcetype: 'sigma:opencanary' } },
    { match: { product: 'bitbucket', service: 'audit' }, fields: { sourcetype: 'sigma:bitbucket:audit' } },
    { match: { product: 'onelogin' }, fields: { sourcetype: 'sigma:onelogin:events' } },
    { match: { product: 'cisco', service: 'duo' }, fields: { sourcetype: 'sigma:cisco:duo' } },
    { match: { product: 'cisco' }, fields: { sourcetype: 'cisco:ios' } },
    { match: { product: 'huawei' }, fields: { sourcetype: 'sigma:network' } },
    { match: { product: 'juniper' }, fields: { sourcetype: 'sigma:network' } },
    { match: { category: 'antivirus' }, fields: { sourcetype: 'sigma:antivirus' } },
    { match: { category: 'database' }, fields: { sourcetype: 'sigma:database' } },
    { match: { category: 'application' }, fields: { sourcetype: 'sigma:application' } },
    { match: { product: 'windows', category: 'file_access' }, fields: { sourcetype: 'sigma:windows:file_access' } },
    { match: { product: 'windows', category: 'file_rename' }, fields: { sourcetype: 'sigma:windows:file_rename' } },
  ]

/**
 * A Security 4688 record as the Windows add-on extracts it: the record's own fields
 * (SECURITY_4688 in winlog.ts, the verifiers' shared model: Sigma's Image and ParentImage are
 * NewProcessName and ParentProcessName there) and the System fields every record has, under the
 * add-on's names. Such a record can be judged only by a query that reads what it holds.
 */
const SPL_4688 = {
  renamed: SECURITY_4688.renamed,
  holds: new Set([
    ...SECURITY_4688.data,
    // The record's System part, as the Windows add-on extracts it.
    'EventCode',
    'Channel',
    'Provider_Name',
    'Computer',
    'source',
    'sourcetype',
  ]) as ReadonlySet<string>,
}

const isSecurity4688 = (p: Placed | undefined): boolean => isSecurity4688Record(p?.record)

/**
 * For a record that holds only some fields (a Security 4688), whether a field a query reads has a
 * known value there: one the record holds, or a Sysmon name whose value it holds under another
 * name (Image, which is NewProcessName there: Image itself is simply absent). Any other field is
 * unknown, not missing: the process had an OriginalFileName, 4688 does not say it. Undefined: the
 * record may hold any field.
 */
export function knownIn(event: JsonEvent): ((field: string) => boolean) | undefined {
  if (!isSecurity4688(place(originOf(event)))) return undefined
  return (f) => SPL_4688.holds.has(f) || Object.prototype.hasOwnProperty.call(SPL_4688.renamed, f)
}

const lower = (s: string | undefined): string | undefined => s?.toLowerCase()
const fits = (match: Readonly<Record<string, string>>, p: Placed): boolean =>
  Object.entries(match).every(([k, v]) => lower(textAt(p.logsource, k)) === lower(v))

/** The index-time fields of an event of this place: source, sourcetype, EventCode …; undefined when it lands nowhere. */
export function landing(p: Placed | undefined): Record<string, string> | undefined {
  if (!p) return undefined
  if (p.record)
    // The add-on also extracts the XML's <Channel> and <Provider Name> as Channel and Provider_Name.
    return {
      source: WINDOWS_SOURCE_PREFIX + p.record.channel,
      sourcetype: 'XmlWinEventLog',
      Channel: p.record.channel,
      ...(p.record.eventId !== undefined ? { EventCode: String(p.record.eventId) } : {}),
      ...(p.record.provider !== undefined ? { Provider_Name: p.record.provider } : {}),
    }
  let best: (typeof OTHER)[number] | undefined
  for (const o of OTHER)
    if (fits(o.match, p) && (!best || Object.keys(o.match).length > Object.keys(best.match).length)) best = o
  return best ? { ...best.fields } : undefined
}

interface Naming {
  readonly match: Readonly<Record<string, string>>
  readonly fields: Readonly<Record<string, string>>
  /** A pipeline's search terms: the user's statement of where the log source's events are (e.g. `index`). */
  readonly search: Readonly<Record<string, string>>
}

/** Field names (the target's maps with the user's pipeline over them) and the pipeline's search terms. */
export interface SplModel {
  readonly fields: Readonly<Record<string, string>>
  readonly namings: readonly Naming[]
  /**
   * Search macros, name → definition: the shipped definitions with the user's pipeline over them,
   * what a user deploys in macros.conf. The verifier expands a query's macros with them, as Splunk
   * does before it parses a search.
   */
  readonly macros: Readonly<Record<string, string>>
}

let shipped: Record<string, unknown> | undefined
const models = new Map<string, SplModel | string>()

export function splModel(pipeline: string | undefined): SplModel | string {
  const key = pipeline ?? ''
  let m = models.get(key)
  if (m === undefined) {
    shipped ??= mapOf(yaml.load(readFileSync(targetPath('spl', 'target.yml'), 'utf8')), 'target.yml')
    const user = pipeline !== undefined ? readPipeline(pipeline) : {}
    if (typeof user === 'string') m = user
    else {
      const namings = new Map<string, Naming>()
      for (const [doc, own] of [
        [shipped, false],
        [user, true],
      ] as const)
        for (const { name, match, entry } of pipelineLogSources(doc)) {
          const search: Record<string, string> = {}
          if (own && isMap(entry['search']))
            for (const [k, v] of Object.entries(entry['search'])) {
              const first = Array.isArray(v) ? v[0] : v
              if (typeof first === 'string' || typeof first === 'number') search[k] = String(first)
            }
          namings.set(name, { match, fields: stringMap(entry['fields']), search })
        }
      m = {
        fields: { ...stringMap(shipped['fields']), ...stringMap(user['fields']) },
        namings: [...namings.values()],
        macros: { ...stringMap(shipped['macros']), ...stringMap(user['macros']) },
      }
    }
    models.set(key, m)
  }
  return m
}

/** Numbers and booleans reach Splunk as the text they were logged as: their JSON text. */
const asText = (v: string | number | boolean): string => (typeof v === 'string' ? v : JSON.stringify(v))

function scalars(value: unknown, out: string[]): void {
  if (Array.isArray(value)) value.forEach((v) => scalars(v, out))
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push(asText(value))
}

/**
 * An event as Splunk's JSON field extraction presents it: top-level keys, then dotted paths into
 * nested objects (`a.b`; an exact key `a.b` wins over the path); arrays become multivalue fields;
 * null, empty arrays and objects give no field
 * (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/about-fields:
 * KV_MODE=json; spath names nested fields with dots). Then the fields of where it landed, unless
 * the event states them itself (even as null). Undefined when the event lands nowhere in Splunk.
 */
export function splRecord(event: JsonEvent, model: SplModel): SplRecord | undefined {
  const r = splPlacement(event, model)
  return r && 'record' in r ? r.record : undefined
}

/**
 * The event as a Splunk record, or why no record of its kind holds it (a Security 4688 with a
 * field 4688 does not record); undefined when it lands nowhere.
 */
export function splPlacement(
  event: JsonEvent,
  model: SplModel,
): { readonly record: SplRecord } | { readonly unrepresentable: string } | undefined {
  const placed = place(originOf(event))
  const landed = landing(placed)
  if (!placed || !landed) return undefined
  const naming = mostSpecific(model.namings, placed.logsource)
  const security4688 = isSecurity4688(placed)
  const rename = (n: string): string =>
    (security4688 ? SPL_4688.renamed[n] : undefined) ?? naming?.fields[n] ?? model.fields[n] ?? n
  let lacking: string | undefined
  const record = new Map<string, string[]>()
  const claimed = new Set<string>()
  // Splunk names the event speaks for itself, even with no value (a null EventID has no EventCode).
  const stated = new Set<string>()
  const put = (name: string, value: unknown): void => {
    if (claimed.has(name)) return
    claimed.add(name)
    const splunkName = rename(name)
    stated.add(splunkName)
    const values: string[] = []
    scalars(value, values)
    if (values.length === 0) return
    if (security4688 && !SPL_4688.holds.has(splunkName)) lacking ??= name
    if (!record.has(splunkName)) record.set(splunkName, values)
  }
  const nested: [string, Record<string, unknown>][] = []
  for (const [k, v] of Object.entries(event)) {
    if (k === ORIGIN_KEY) continue
    put(k, v)
    if (isMap(v) && !k.includes('.')) nested.push([k, v])
  }
  for (let i = 0; i < nested.length; i++) {
    const [prefix, obj] = itemAt(nested, i)
    for (const [k, v] of Object.entries(obj)) {
      if (k.includes('.')) continue
      const name = `${prefix}.${k}`
      put(name, v)
      if (isMap(v)) nested.push([name, v])
    }
  }
  if (lacking !== undefined) return { unrepresentable: `a Security 4688 record holds no ${lacking}` }
  for (const [f, v] of Object.entries({ ...landed, ...naming?.search })) if (!stated.has(f)) record.set(f, [v])
  return { record }
}

// --- addresses ---------------------------------------------------------------------------------

/**
 * An address as 16 bytes (IPv4 as the low 4 of an IPv4 family value), or undefined. IPv4 is a
 * dotted quad of decimal octets; IPv6 is RFC 4291 text (hex groups, one `::`, an optional final
 * dotted quad). Splunk's search and cidrmatch take both families
 * (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/search,
 * "IPv4 and IPv6 addresses"); an address is never in a subnet of the other family [our reading].
 */
function address(text: string): { family: 4 | 6; bytes: number[] } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (v4) {
    const bytes = v4.slice(1).map(Number)
    return bytes.every((b, i) => b <= 255 && !(itemAt(v4, i + 1).length > 1 && itemAt(v4, i + 1).startsWith('0')))
      ? { family: 4, bytes }
      : undefined
  }
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return undefined
  let body = text
  const tail: number[] = []
  const dot = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text)
  if (dot) {
    const a = address(itemAt(dot, 1))
    if (!a) return undefined
    tail.push(...a.bytes)
    body = text.slice(0, text.length - itemAt(dot, 1).length) + '0:0'
  }
  const parts = body.split('::')
  if (parts.length > 2) return undefined
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'))
  const head = groups(first(parts))
  const rest = parts.length === 2 ? groups(must(parts[1], 'the group matched')) : []
  const n = head.length + rest.length
  if (parts.length === 1 ? n !== 8 : n > 7) return undefined
  const all = [...head, ...Array.from({ length: 8 - n }, () => '0'), ...rest]
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined
  const bytes = all.flatMap((g) => {
    const x = parseInt(g, 16)
    return [x >> 8, x & 255]
  })
  if (tail.length) bytes.splice(12, 4, ...tail)
  return { family: 6, bytes }
}

/** A subnet `address/prefix` (or a bare address), or undefined when the text is not one. */
export function subnet(text: string): { family: 4 | 6; bytes: number[]; prefix: number } | undefined {
  const slash = text.indexOf('/')
  const a = address(slash < 0 ? text : text.slice(0, slash))
  if (!a) return undefined
  const max = a.family === 4 ? 32 : 128
  const p = slash < 0 ? String(max) : text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined
  return { ...a, prefix: Number(p) }
}

/** True when `ip` is an address of the subnet's family whose first `prefix` bits equal the subnet's. */
export function inSubnet(ip: string, cidr: string): boolean {
  const s = subnet(cidr)
  const a = address(ip)
  if (!s || !a || a.family !== s.family) return false
  for (let bit = 0; bit < s.prefix; bit++) {
    const mask = 0x80 >> (bit % 8)
    if ((itemAt(a.bytes, bit >> 3) & mask) !== (itemAt(s.bytes, bit >> 3) & mask)) return false
  }
  return true
}

// --- CIM data models ----------------------------------------------------------------------------

/**
 * Which events a CIM data-model dataset holds, and under which field names the `datamodel`
 * command returns them (`<dataset>.<field>`:
 * https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/datamodel).
 * Endpoint.Processes holds process creations, Sysmon 1, Security 4688 and Sysmon for Linux's
 * event 1 (https://splunkbase.splunk.com/app/6652) alike; its `process` is
 * the full command line, `process_path` the executable's path, `parent_process_path` the parent's
 * (https://help.splunk.com/data-management/common-information-model/6.0/data-models/endpoint).
 * Network_Traffic.All_Traffic holds connections, Sysmon 3's addresses and ports as `src_ip`,
 * `src_port`, `dest_ip`, `dest_port` (https://help.splunk.com/data-management/common-information-model/6.0/data-models/network-traffic).
 * The add-ons fill these with the record's own values [our reading: the Windows and Sysmon
 * add-ons alias the fields, as pySigma's splunk_cim pipeline maps them]. A dataset field not
 * listed here is not modelled, and a query reading it is reported.
 */
const CIM_DATASETS: Readonly<
  Record<
    string,
    { readonly holds: (p: Placed) => boolean; readonly fields: (p: Placed) => Readonly<Record<string, string>> }
  >
> = {
  'Endpoint.Processes': {
    holds: (p) => isSysmon(p, 1) || isSecurity4688(p) || isLinuxProcessCreation(p),
    // Sigma's names on either record (a 4688 written with Sigma's names, as the verifier reads it above).
    fields: () => ({
      Image: 'Processes.process_path',
      CommandLine: 'Processes.process',
      ParentImage: 'Processes.parent_process_path',
    }),
  },
  'Network_Traffic.All_Traffic': {
    holds: (p) => isSysmon(p, 3),
    fields: () => ({
      SourceIp: 'All_Traffic.src_ip',
      SourcePort: 'All_Traffic.src_port',
      DestinationIp: 'All_Traffic.dest_ip',
      DestinationPort: 'All_Traffic.dest_port',
    }),
  },
}

const isLinuxProcessCreation = (p: Placed): boolean =>
  p.logsource.product?.toLowerCase() === 'linux' && p.logsource.category?.toLowerCase() === 'process_creation'

const isSysmon = (p: Placed, id: number): boolean =>
  p.record?.channel.toLowerCase() === 'microsoft-windows-sysmon/operational' && p.record.eventId === id

/** The dataset fields the verifier models, for `datamodel <model> <dataset>`; undefined: an unknown dataset. */
export function cimFields(dataset: string): ReadonlySet<string> | undefined {
  const d = CIM_DATASETS[dataset]
  if (!d) return undefined
  return new Set(Object.values(d.fields({ logsource: {} })))
}

/** The event as a record of the dataset, or undefined when the dataset does not hold it. */
export function cimRecord(event: JsonEvent, dataset: string): SplRecord | undefined {
  const d = CIM_DATASETS[dataset]
  const placed = place(originOf(event))
  if (!d || !placed || !d.holds(placed)) return undefined
  const record = new Map<string, string[]>()
  for (const [sigma, field] of Object.entries(d.fields(placed))) {
    if (!Object.prototype.hasOwnProperty.call(event, sigma)) continue
    const values: string[] = []
    scalars(event[sigma], values)
    if (values.length > 0) record.set(field, values)
  }
  return record
}
