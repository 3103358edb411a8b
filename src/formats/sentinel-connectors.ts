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
 * - The other tables the kql sentinel family reads (WindowsEvent, AzureActivity, OfficeActivity,
 *   Okta_CL, GCPAuditLogs, AKSAudit, GitHubAuditLogPolling_CL) have no row yet: their connector
 *   definitions were not read, and a query on them lists no connector rather than a guessed one.
 * - Event (Windows event logs other than Security, collected by the agent's "Windows event logs"
 *   data source): no connector in ValidConnectorIds.json names this table, so a query on it lists
 *   none (an empty list is valid; a made-up id is not).
 */
export const SENTINEL_CONNECTORS: Readonly<Record<string, readonly string[]>> = {
  SecurityEvent: ['SecurityEvents', 'WindowsSecurityEvents'],
  Syslog: ['Syslog'],
  AWSCloudTrail: ['AWS'],
  SigninLogs: ['AzureActiveDirectory'],
  AuditLogs: ['AzureActiveDirectory'],
  AADUserRiskEvents: ['AzureActiveDirectory'],
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
