/**
 * Sentinel's `requiredDataConnectors`: the data connectors that fill the tables a query reads. A
 * template lists each as `{ connectorId, dataTypes: [table] }`; Azure-Sentinel's detection-template
 * validation accepts only the ids in .script/tests/detectionTemplateSchemaValidation/
 * ValidConnectorIds.json (read at 9102fc88a3f0).
 *
 * Table → connectors, from the connector definitions in Azure-Sentinel (each connector's `id` and
 * the table its `dataTypes`/`graphQueries` read):
 * - SecurityEvent: `SecurityEvents` (Solutions/Windows Security Events/Data Connectors/
 *   template_SecurityEvents.JSON, the legacy agent) and `WindowsSecurityEvents` (…/
 *   template_WindowsSecurityEvents.JSON, "Windows Security Events via AMA", base query SecurityEvent).
 * - Syslog: `Syslog` (Solutions/Syslog/Data Connectors/template_Syslog.json, data type Syslog). The
 *   AMA connector `SyslogAma` reads the same table but is not in ValidConnectorIds.json, so it is
 *   not listed.
 * - AWSCloudTrail: `AWS` (Solutions/Amazon Web Services/Data Connectors/template_AWS.json, data type
 *   AWSCloudTrail).
 * - SigninLogs, AuditLogs, AADUserRiskEvents: `AzureActiveDirectory` (Solutions/Microsoft Entra ID/
 *   Data Connectors/template_AzureActiveDirectory.JSON, whose dataTypes list all three).
 * - AzureActivity: `AzureActivity` (Solutions/Azure Activity/Data Connectors/AzureActivity.JSON @234d34cb,
 *   data type AzureActivity).
 * - OfficeActivity: `Office365` (Solutions/Microsoft 365/Data Connectors/Microsoft365.JSON @a1f443d2,
 *   data types "OfficeActivity (SharePoint)", "(Exchange)", "(Teams)", all reading OfficeActivity).
 * - Okta_CL: `OktaSSO` (Solutions/Okta Single Sign-On/Data Connectors/OktaSingleSign-On/
 *   Connector_REST_API_FunctionApp_Okta.json @4036e9ab, data type Okta_CL).
 * - W3CIISLog: `AzureMonitor(IIS)`, the id Azure-Sentinel's own IIS detections and hunting
 *   queries list with data type W3CIISLog (e.g. the "Rare User Agent strings" hunting query).
 * - AKSAudit: `AzureKubernetes` (Solutions/Azure kubernetes Service/Data Connectors/
 *   AzureKubernetes.JSON @82f1a8cc). The connector turns on AKS diagnostic settings and lists the
 *   `kube-audit` category among its data types; its own queries read that category in
 *   AzureDiagnostics, and with the resource-specific destination the same category is the AKSAudit
 *   table ("Requires Diagnostic Settings to use the Resource Specific destination table",
 *   https://learn.microsoft.com/azure/azure-monitor/reference/tables/aksaudit).
 * - WindowsEvent, GCPAuditLogs, GitHubAuditLogPolling_CL: no row. Their connectors are
 *   `WindowsForwardedEvents` (Solutions/Windows Forwarded Events/Data Connectors/
 *   WindowsForwardedEvents.JSON @442ef2ff, base query WindowsEvent; Azure-Sentinel's own
 *   WindowsEvent rules list it, e.g. Analytic Rules/ChiaCryptoMining_WindowsEvent.yaml),
 *   `GCPAuditLogsDefinition` (Solutions/Google Cloud Platform Audit Logs/Data Connectors/
 *   GCPAuditLogs.json @8109b7ad, table GCPAuditLogs; listed by Analytic Rules/
 *   GCPOrgPolicyDeletion.yaml) and `GitHubEcAuditLogPolling` (Solutions/GitHub/Data Connectors/
 *   azuredeploy_GitHub_native_poller_connector.json @13dc9cbe, table GitHubAuditLogPolling_CL).
 *   None of the three ids is in the ValidConnectorIds.json the checker holds (@9102fc88), so a
 *   template naming one would fail that validation; the query lists no connector until the list is
 *   brought up to a version that has them.
 * - DeviceProcessEvents, DeviceFileEvents, DeviceRegistryEvents, DeviceImageLoadEvents,
 *   DeviceNetworkEvents, DeviceEvents (a combined run's Defender tables, streamed into the
 *   workspace): `MicrosoftThreatProtection` (Solutions/Microsoft Defender XDR/Data Connectors/
 *   MicrosoftThreatProtection.JSON @05bb09d5, whose dataTypes list each of them).
 * - The ASIM parsers (_Im_*): functions over many source tables, with no connector of their own; a
 *   query on one lists none.
 * - Corelight_v3_*_CL (Zeek logs): `CorelightConnectorExporter` (Solutions/Corelight/Data Connectors/
 *   CorelightExporter/CorelightConnectorExporter.json @0ba5bb09, whose dataTypes read
 *   Corelight_v3_<log>_CL). The stored list has `Corelight`, the older connector of the v2 tables
 *   (Connector_Exporter_Corelight.json), not this id: no row, as above.
 */
export const SENTINEL_CONNECTORS: Readonly<Record<string, readonly string[]>> = {
  SecurityEvent: ['SecurityEvents', 'WindowsSecurityEvents'],
  Syslog: ['Syslog'],
  AWSCloudTrail: ['AWS'],
  SigninLogs: ['AzureActiveDirectory'],
  AuditLogs: ['AzureActiveDirectory'],
  AADUserRiskEvents: ['AzureActiveDirectory'],
  AzureActivity: ['AzureActivity'],
  OfficeActivity: ['Office365'],
  Okta_CL: ['OktaSSO'],
  W3CIISLog: ['AzureMonitor(IIS)'],
  AKSAudit: ['AzureKubernetes'],
  DeviceProcessEvents: ['MicrosoftThreatProtection'],
  DeviceFileEvents: ['MicrosoftThreatProtection'],
  DeviceRegistryEvents: ['MicrosoftThreatProtection'],
  DeviceImageLoadEvents: ['MicrosoftThreatProtection'],
  DeviceNetworkEvents: ['MicrosoftThreatProtection'],
  DeviceEvents: ['MicrosoftThreatProtection'],
  // Connector ids the stored ValidConnectorIds.json lacks (see above): WindowsForwardedEvents,
  // GCPAuditLogsDefinition, GitHubEcAuditLogPolling, CorelightConnectorExporter.
  WindowsEvent: [],
  GCPAuditLogs: [],
  GitHubAuditLogPolling_CL: [],
  // CorelightConnectorExporter, not in the stored list either.
  Corelight_v3_dce_rpc_CL: [],
  Corelight_v3_smb_files_CL: [],
  Corelight_v3_dns_CL: [],
  Corelight_v3_http_CL: [],
  Corelight_v3_x509_CL: [],
  Corelight_v3_kerberos_CL: [],
  Corelight_v3_rdp_CL: [],
  Event: [],
}

export interface RequiredDataConnector {
  readonly connectorId: string
  readonly dataTypes: readonly string[]
}

/** The connectors for the tables a query reads, in table order, each connector once. */
export function requiredDataConnectors(tables: readonly string[]): RequiredDataConnector[] {
  const out: { connectorId: string; dataTypes: string[] }[] = []
  for (const table of tables)
    for (const connectorId of SENTINEL_CONNECTORS[table] ?? []) {
      const existing = out.find((c) => c.connectorId === connectorId)
      if (existing) {
        if (!existing.dataTypes.includes(table)) existing.dataTypes.push(table)
      } else out.push({ connectorId, dataTypes: [table] })
    }
  return out
}
