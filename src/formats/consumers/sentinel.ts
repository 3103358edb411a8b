/**
 * Microsoft Sentinel's detection-template validation, re-expressed as data: what Azure-Sentinel's
 * CI (.script/tests/detectionTemplateSchemaValidation, xUnit over every Analytic Rules YAML) checks,
 * read file by file (commits noted per fact). It has its own copy of Sentinel's tables and imports
 * nothing from the formats it checks, so a format bug shows here as a violation.
 *
 * - ScheduledTemplateInternalModel.cs @749f8bfe, QueryBasedTemplateInternalModel.cs @95b48aae,
 *   AnalyticsTemplateInternalModelBase.cs @37b07060: required id (a GUID), kind, name (≤ 256),
 *   description (≤ 5000), severity (Informational|Low|Medium|High), query (1..10000 characters),
 *   queryFrequency and queryPeriod (5 minutes .. 14 days, PeriodGreaterThanOrEqualFrequency),
 *   triggerOperator (gt|lt|eq|ne), triggerThreshold (0..10000), requiredDataConnectors (each with
 *   dataTypes), entityMappings (1..5, each 1..3 field mappings), version (≤ 20, X.Y.Z:
 *   QueryBasedTemplateVersionValidator.cs @1b4ccf67).
 * - Models/AttackTactic.cs @0c997aa8: the tactics enum.
 * - ModelValidationAttributes/NoTechniquesWithoutMatchingTactics.cs @44e6ba9c and
 *   KillChainTechniquesHelper.cs @cbdb7dfe: every technique (without its sub-technique) must be in
 *   the table and all its table tactics in `tactics`.
 * - Models/EntityMappingIdentifiers.cs @9a09dab5: identifiers per entity type and the identifiers
 *   one of which each mapping needs.
 * - DetectionTemplateSchemaValidationTests.cs @a86b0322 Validate_DetectionTemplates_HasValidConnectorIds
 *   with ValidConnectorIds.json @9102fc88: connector ids.
 */
import { load as loadYaml } from 'js-yaml'
import { ajvValidator, type Violation } from './ajv.js'
import { entryOf, errorMessage, first, isMap, isStringArray } from '../../guards.js'

/**
 * Models/AttackTactic.cs @0c997aa8: the tactics a template may name. The Microsoft.SecurityInsights
 * REST API's AttackTactic (azure-rest-api-specs, securityinsights) also has `PreAttack`; the template
 * validation does not, so a template with it fails here, and this is the list every consumer of
 * `tactics` accepts.
 */
export const SENTINEL_TACTICS: readonly string[] = [
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'Exfiltration',
  'CommandAndControl',
  'Impact',
  'Reconnaissance',
  'ResourceDevelopment',
  'ImpairProcessControl',
  'InhibitResponseFunction',
]

/** ValidConnectorIds.json @9102fc88. */
const CONNECTOR_IDS =
  `AIVectraDetect AWS Agari AkamaiSecurityEvents AlcideKAudit AlsidForAD ApacheHTTPServer ArubaClearPass
AzureActiveDirectory AzureActiveDirectoryIdentityProtection AzureActivity AzureAdvancedThreatProtection AzureFirewall
AzureInformationProtection AzureKeyVault AzureKubernetes AzureMonitor(IIS) AzureMonitor(VMInsights) AzureMonitor(WireData)
AzureSecurityCenter AzureSql AzureStorageAccount Barracuda BarracudaCloudFirewall BetterMTD BeyondSecuritybeSECURE
BlackberryCylancePROTECT BoxDataConnector BroadcomSymantecDLP CEF CheckPoint CiscoASA CiscoFirepowerEStreamer CiscoISE
CiscoMeraki CiscoUCS CiscoUmbrellaDataConnector Citrix CitrixWAF CloudflareDataConnector CognniSentinelDataConnector
ContrastProtect Corelight CrowdStrikeFalconEndpointProtection CyberArk CyberpionSecurityLogs DDOS DNS Darktrace Dynamics365
ESETEnterpriseInspector ESETPROTECT EsetSMC ExtraHopNetworks F5 F5BigIp ForcepointCasb ForcepointDlp ForcepointNgfw
ForgeRock Fortinet GWorkspaceRAPI ImpervaWAFGateway ImportedConnector InfobloxCloudDataConnector InfobloxNIOS IoT
JuniperSRX LookoutAPI McAfeeePO MicrosoftCloudAppSecurity MicrosoftDefenderAdvancedThreatProtection
MicrosoftThreatProtection MorphisecUTPP NXLogDnsLogs NXLogLinuxAudit Netskope Office365 OfficeATP OktaSSO OnapsisPlatform
OneIdentity OracleDatabaseAudit OrcaSecurityAlerts PaloAltoNetworks PaloAltoPrismaCloud Perimeter81ActivityLogs
PingFederate ProofpointPOD ProofpointTAP PulseConnectSecure QualysKB QualysVulnerabilityManagement SalesforceServiceCloud
SecurityEvents SemperisDSP SenservaPro SlackAuditAPI SonicWallFirewall SophosCloudOptix SophosXGFirewall
SquadraTechnologiesSecRmm SquidProxy Symantec SymantecEndpointProtection SymantecProxySG SymantecVIP Syslog
ThreatIntelligence ThreatIntelligenceTaxii ThycoticSecretServer_CEF TrendMicro TrendMicroTippingPoint TrendMicroXDR
UbiquitiUnifi vArmourAC VMwareCarbonBlack VMwareESXi WAF WindowsFirewall WireX_Systems_NFP ZimperiumMtdAlerts Zscaler
illusiveAttackManagementSystem WindowsSecurityEvents IronNetIronDefense`.split(/\s+/)

/**
 * KillChainTechniquesHelper.cs @cbdb7dfe, enterprise rows (PreAttack is not an AttackTactic).
 * Transcribed apart from src/formats/attack.ts's copy, which the formatter maps with: the check
 * must be able to fail when the formatter misreads the table.
 */
const TECHNIQUE_TABLE: Readonly<Record<string, string>> = {
  InitialAccess: 'T1078 T1091 T1133 T1195 T1199 T1200 T1189 T1190 T1566',
  Persistence:
    'T1037 T1053 T1078 T1098 T1136 T1137 T1176 T1197 T1133 T1205 T1505 T1525 T1542 T1543 T1546 T1547 T1554 T1574 T1556',
  PrivilegeEscalation: 'T1037 T1053 T1055 T1068 T1078 T1134 T1484 T1543 T1546 T1547 T1548 T1574 T1611',
  DefenseEvasion:
    'T1006 T1014 T1027 T1036 T1055 T1070 T1078 T1112 T1127 T1134 T1140 T1197 T1202 T1205 T1207 T1211 T1216 T1218 T1220 T1221 T1222 T1480 T1484 T1497 T1535 T1542 T1548 T1550 T1553 T1556 T1562 T1564 T1574 T1578 T1599 T1600 T1601 T1612 T1610',
  CredentialAccess:
    'T1003 T1040 T1056 T1110 T1111 T1187 T1212 T1528 T1539 T1552 T1555 T1556 T1557 T1558 T1606 T1613 T1614 T1621',
  Discovery:
    'T1007 T1010 T1012 T1016 T1018 T1033 T1040 T1046 T1049 T1057 T1069 T1082 T1083 T1087 T1120 T1124 T1135 T1201 T1217 T1482 T1497 T1518 T1526 T1538 T1580',
  LateralMovement: 'T1021 T1072 T1080 T1091 T1210 T1534 T1550 T1563 T1570',
  Execution: 'T1047 T1053 T1059 T1072 T1106 T1129 T1203 T1204 T1559 T1569',
  Collection:
    'T1005 T1025 T1039 T1056 T1074 T1113 T1114 T1115 T1119 T1123 T1125 T1185 T1213 T1530 T1557 T1560 T1602 T1609 T1610',
  Exfiltration: 'T1011 T1020 T1029 T1030 T1041 T1048 T1052 T1537 T1567',
  CommandAndControl: 'T1001 T1008 T1071 T1090 T1092 T1095 T1102 T1104 T1105 T1132 T1205 T1219 T1568 T1571 T1572 T1573',
  Impact: 'T1485 T1486 T1489 T1490 T1491 T1495 T1496 T1498 T1499 T1529 T1531 T1561 T1565',
  Reconnaissance: 'T1595 T1592 T1589 T1590 T1591 T1598 T1597 T1596 T1593 T1594',
  ResourceDevelopment: 'T1583 T1586 T1584 T1587 T1585 T1588 T1608',
}

/** EntityMappingIdentifiers.cs @9a09dab5: identifiers, and the sets one of which a mapping must hold. */
const ENTITIES: Readonly<Record<string, { ids: string; required: string[] }>> = {
  Account: {
    ids: 'Name FullName NTDomain DnsDomain UPNSuffix Sid AadTenantId AadUserId PUID IsDomainJoined DisplayName ObjectGuid CloudAppAccountId',
    required: ['FullName', 'Sid', 'Name', 'AadUserId', 'PUID', 'ObjectGuid'],
  },
  AzureResource: { ids: 'ResourceId', required: ['ResourceId'] },
  CloudApplication: { ids: 'AppId Name InstanceName', required: ['AppId', 'Name'] },
  DNS: { ids: 'DomainName', required: ['DomainName'] },
  File: { ids: 'Directory Name', required: ['Name'] },
  FileHash: { ids: 'Algorithm Value', required: ['Algorithm Value'] },
  Host: {
    ids: 'DnsDomain NTDomain HostName FullName NetBiosName AzureID OMSAgentID OSFamily OSVersion IsDomainJoined',
    required: ['FullName', 'HostName', 'NetBiosName', 'AzureID', 'OMSAgentID'],
  },
  IP: { ids: 'Address', required: ['Address'] },
  Malware: { ids: 'Name Category', required: ['Name'] },
  Process: { ids: 'ProcessId CommandLine ElevationToken CreationTimeUtc', required: ['CommandLine', 'ProcessId'] },
  RegistryKey: { ids: 'Hive Key', required: ['Key', 'Hive'] },
  RegistryValue: { ids: 'Name Value ValueType', required: ['Name'] },
  SecurityGroup: { ids: 'DistinguishedName SID ObjectGuid', required: ['DistinguishedName', 'SID', 'ObjectGuid'] },
  URL: { ids: 'Url', required: ['Url'] },
}

const SCHEMA = {
  type: 'object',
  required: [
    'id',
    'kind',
    'name',
    'description',
    'severity',
    'requiredDataConnectors',
    'query',
    'queryFrequency',
    'queryPeriod',
    'triggerOperator',
    'triggerThreshold',
  ],
  properties: {
    id: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' },
    kind: { enum: ['Scheduled', 'NRT'] },
    name: { type: 'string', maxLength: 256 },
    description: { type: 'string', maxLength: 5000 },
    severity: { enum: ['Informational', 'Low', 'Medium', 'High'] },
    query: { type: 'string', minLength: 1, maxLength: 10000 },
    queryFrequency: { type: 'string', pattern: '^\\d+[mhd]$' },
    queryPeriod: { type: 'string', pattern: '^\\d+[mhd]$' },
    triggerOperator: { enum: ['gt', 'lt', 'eq', 'ne', 'GreaterThan', 'LessThan', 'Equal', 'NotEqual'] },
    triggerThreshold: { type: 'integer', minimum: 0, maximum: 10000 },
    tactics: { type: 'array', items: { enum: [...SENTINEL_TACTICS] } },
    relevantTechniques: { type: 'array', items: { type: 'string', pattern: '^T\\d{4}(\\.\\d{3})?$' } },
    requiredDataConnectors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['connectorId', 'dataTypes'],
        properties: {
          connectorId: { enum: CONNECTOR_IDS },
          dataTypes: { type: 'array', items: { type: 'string', minLength: 1 } },
        },
      },
    },
    entityMappings: {
      type: 'array',
      minItems: 1,
      maxItems: 5,
      items: {
        type: 'object',
        required: ['entityType', 'fieldMappings'],
        properties: {
          entityType: { enum: Object.keys(ENTITIES) },
          fieldMappings: {
            type: 'array',
            minItems: 1,
            maxItems: 3,
            items: {
              type: 'object',
              required: ['identifier', 'columnName'],
              properties: { identifier: { type: 'string' }, columnName: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
    version: { type: 'string', maxLength: 20, pattern: '^\\d+\\.\\d+\\.\\d+$' },
  },
}

const MINUTES: Readonly<Record<string, number>> = { m: 1, h: 60, d: 1440 }
const minutes = (s: string) => Number(s.slice(0, -1)) * (MINUTES[s.slice(-1)] ?? NaN)

const techniqueTactics = (() => {
  const m = new Map<string, string[]>()
  for (const [tactic, ids] of Object.entries(TECHNIQUE_TABLE))
    for (const id of ids.split(' ')) m.set(id, [...(m.get(id) ?? []), tactic])
  return m
})()

/** What Sentinel's validation would reject in one analytics rule YAML file; empty when it passes. */
export function checkSentinelYaml(text: string): Violation[] {
  let doc: unknown
  try {
    doc = loadYaml(text)
  } catch (e) {
    return [{ path: '', message: `not YAML: ${first(errorMessage(e).split('\n'))}` }]
  }
  const out = ajvValidator('sentinel', SCHEMA)(doc)
  // The schema holds from here on (an object with the keys and types below); the guards restate it.
  if (out.length || !isMap(doc)) return out
  const t = doc
  const freq = minutes(String(t.queryFrequency)),
    period = minutes(String(t.queryPeriod))
  for (const [k, v] of [
    ['queryFrequency', freq],
    ['queryPeriod', period],
  ] as const)
    if (v < 5 || v > 14 * 1440) out.push({ path: `/${k}`, message: 'must be between 5 minutes and 14 days' })
  if (period < freq) out.push({ path: '/queryPeriod', message: 'must be at least queryFrequency' })
  const tactics = isStringArray(t.tactics) ? t.tactics : []
  for (const technique of isStringArray(t.relevantTechniques) ? t.relevantTechniques : []) {
    const needs = techniqueTactics.get(first(technique.split('.'))) ?? []
    if (needs.length === 0 || !needs.every((n) => tactics.includes(n)))
      out.push({
        path: '/relevantTechniques',
        message: `No valid tactic corresponding to the technique ${technique} was provided in the tactics field`,
      })
  }
  for (const [i, m] of (Array.isArray(t.entityMappings) ? t.entityMappings : []).entries()) {
    if (!isMap(m) || typeof m.entityType !== 'string' || !Array.isArray(m.fieldMappings)) continue
    const e = entryOf(ENTITIES, m.entityType)
    const ids = m.fieldMappings.flatMap((f) => (isMap(f) && typeof f.identifier === 'string' ? [f.identifier] : []))
    for (const id of ids)
      if (!e.ids.split(' ').includes(id))
        out.push({ path: `/entityMappings/${i}`, message: `${m.entityType} has no identifier ${id}` })
    if (new Set(ids).size !== ids.length)
      out.push({ path: `/entityMappings/${i}`, message: 'an identifier is mapped twice' })
    if (!e.required.some((r) => r.split(' ').every((x) => ids.includes(x))))
      out.push({ path: `/entityMappings/${i}`, message: `${m.entityType} needs one of ${e.required.join(', ')}` })
  }
  return out
}

/**
 * A Sentinel ARM template (the portal's and repositories' import form): the alertRules resource's
 * properties are checked with the same rules as a template, after mapping the REST names to the
 * template's (displayName → name, techniques → relevantTechniques, ISO 8601 PT1H → 1h, GreaterThan
 * → gt) as Azure-Sentinel's AnalyticsTemplateConverter relates them.
 */
export function checkSentinelArm(text: string): Violation[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return [{ path: '', message: `not JSON: ${errorMessage(e)}` }]
  }
  const resources: unknown[] = isMap(doc) && Array.isArray(doc.resources) ? doc.resources : []
  const rules = resources.filter(isMap).filter((r) => typeof r.type === 'string' && r.type.endsWith('alertRules'))
  if (rules.length === 0) return [{ path: '/resources', message: 'no alertRules resource' }]
  const iso = (v: unknown) => {
    const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(String(v))
    if (!m) return String(v)
    const minutes = Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)
    return `${minutes}m`
  }
  const ops: Record<string, string> = { GreaterThan: 'gt', LessThan: 'lt', Equal: 'eq', NotEqual: 'ne' }
  return rules.flatMap((r, i) => {
    const p = isMap(r.properties) ? r.properties : {}
    const template = {
      id: '00000000-0000-0000-0000-000000000000',
      kind: r.kind,
      name: p.displayName,
      description: p.description,
      severity: p.severity,
      requiredDataConnectors: [],
      query: p.query,
      queryFrequency: iso(p.queryFrequency),
      queryPeriod: iso(p.queryPeriod),
      triggerOperator: ops[String(p.triggerOperator)] ?? p.triggerOperator,
      triggerThreshold: p.triggerThreshold,
      tactics: p.tactics,
      relevantTechniques: p.techniques,
      entityMappings: p.entityMappings,
    }
    // JSON is YAML.
    return checkSentinelYaml(JSON.stringify(template)).map((v) => ({
      path: `/resources/${i}/properties${v.path}`,
      message: v.message,
    }))
  })
}
