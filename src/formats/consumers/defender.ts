/**
 * Microsoft Graph's security detectionRule (beta, POST /security/rules/detectionRules), re-expressed
 * as data: the body's properties as microsoft-graph-docs-contrib documents them
 * (api-reference/beta/resources/security-detectionrule.md, security-ruleschedule.md,
 * security-alerttemplate.md; schedule.period 0, 1H, 3H, 12H or 24H), alert severities of
 * microsoft.graph.security.alertSeverity, and as category the alert categories Defender XDR uses:
 * the ATT&CK tactics in PascalCase and its own (learn.microsoft.com defender-endpoint
 * "alerts-queue" categories). It imports nothing from the formats it checks.
 */
import { ajvValidator, type Violation } from './ajv.js'
import { errorMessage } from '../../guards.js'

const CATEGORIES = [
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
  'SuspiciousActivity',
  'Malware',
  'Ransomware',
  'Exploit',
  'UnwantedSoftware',
]

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['displayName', 'isEnabled', 'queryCondition', 'schedule', 'detectionAction'],
  properties: {
    displayName: { type: 'string', minLength: 1 },
    isEnabled: { type: 'boolean' },
    queryCondition: {
      type: 'object',
      additionalProperties: false,
      required: ['queryText'],
      properties: { queryText: { type: 'string', minLength: 1 } },
    },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['period'],
      properties: { period: { enum: ['0', '1H', '3H', '12H', '24H'] } },
    },
    detectionAction: {
      type: 'object',
      additionalProperties: false,
      required: ['alertTemplate'],
      properties: {
        alertTemplate: {
          type: 'object',
          additionalProperties: false,
          required: ['title', 'severity', 'category', 'impactedAssets'],
          properties: {
            title: { type: 'string', minLength: 1 },
            description: { type: ['string', 'null'] },
            severity: { enum: ['informational', 'low', 'medium', 'high'] },
            category: { enum: CATEGORIES },
            recommendedActions: { type: ['string', 'null'] },
            mitreTechniques: { type: 'array', items: { type: 'string', pattern: '^T\\d{4}(\\.\\d{3})?$' } },
            impactedAssets: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['@odata.type', 'identifier'],
                properties: {
                  '@odata.type': {
                    enum: [
                      '#microsoft.graph.security.impactedDeviceAsset',
                      '#microsoft.graph.security.impactedUserAsset',
                      '#microsoft.graph.security.impactedMailboxAsset',
                    ],
                  },
                  identifier: { type: 'string', minLength: 1 },
                },
              },
            },
          },
        },
        organizationalScope: { type: ['object', 'null'] },
        responseActions: { type: 'array' },
      },
    },
  },
}

/** What Graph's detectionRule model rejects in one body; empty when it passes. */
export function checkDefenderRule(text: string): Violation[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return [{ path: '', message: `not JSON: ${errorMessage(e)}` }]
  }
  return ajvValidator('defender', SCHEMA)(doc)
}
