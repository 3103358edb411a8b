/**
 * Cloud fields added or corrected after reviewing the target/unknown-field refusals
 * (docs/targets/eql.md, "Fields reviewed"): the Entra ID sign-in's userAgent, which the azure
 * integration's signinlogs pipeline renames to user_agent.original with its value unchanged; the
 * audit record's properties.result, which the auditlogs pipeline moves to event.outcome only when it
 * is success or failure (lower-cased by the shared pipeline); the activity log's ResourceId, which
 * ends in cloud.resource_id; and Okta's empty values, which its pipeline drops. The proof holds on
 * such records; a query reading the wrong field or log, or a map that compiles a test the move does
 * not keep, fails it.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { withOrigin } from '../../src/origin.js'
import { checkEquivalence, checkQuery } from '../../src/proof/equivalence.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { scratch, write } from '../hostile/helpers.js'
import { eql, expectEquivalent, sigma } from './helpers.js'

const SIGNIN = 'product: azure\n  service: signinlogs'
const AUDIT = 'product: azure\n  service: auditlogs'

describe('eql: Entra ID sign-in userAgent', () => {
  const rule = sigma("  sel:\n    userAgent|contains: 'azurehound'\n    ResultType: 0\n  condition: sel", SIGNIN)
  const events = [
    { userAgent: 'azurehound/v2.1.0', ResultType: '0' },
    { userAgent: 'AzureHound', ResultType: 0 },
    { userAgent: 'Mozilla/5.0', ResultType: '0' },
    { userAgent: 'azurehound/v2.1.0', ResultType: '50126' },
    { ResultType: '0', ClientApp: 'azurehound' },
    // The same field in an Entra ID audit record: not a sign-in.
    { userAgent: 'azurehound/v2.1.0', ResultType: '0', _logsource: { product: 'azure', service: 'auditlogs' } },
  ]

  it('userAgent → user_agent.original', () => {
    expect(eql(rule)).toBe(
      'any where event.dataset == "azure.signinlogs" and user_agent.original : "*azurehound*" and azure.signinlogs.result_type : "0"',
    )
  })

  it('is equivalent on sign-in records; another field (event 4 has azurehound as its client app) or another log fails the proof', async () => {
    expect(await expectEquivalent(rule, events)).toEqual([true, true, false, false, false, false])
    const q = eql(rule)
    const wrongField = await checkQuery(
      rule,
      q.replace('user_agent.original', 'azure.signinlogs.properties.client_app_used'),
      events,
      verifier,
    )
    expect(wrongField.mismatches).toEqual([0, 1, 4])
    const wrongLog = await checkQuery(rule, q.replace('"azure.signinlogs"', '"azure.auditlogs"'), events, verifier)
    expect(wrongLog.mismatches).toEqual([0, 1])
  })
})

describe('eql: Entra ID audit properties.result', () => {
  const rule = sigma(
    "  sel:\n    operationName: 'Disable Strong Authentication'\n    properties.result: success\n  condition: sel",
    AUDIT,
  )
  const op = { operationName: 'Disable Strong Authentication' }
  const events = [
    { ...op, properties: { result: 'success' } },
    { ...op, 'properties.result': 'SUCCESS' },
    { ...op, properties: { result: 'failure' } },
    { ...op, properties: { result: 'timeout' } },
    { ...op },
    { operationName: 'Enable Strong Authentication', properties: { result: 'success' } },
  ]

  it('a case-insensitive test for success or failure reads event.outcome', async () => {
    expect(eql(rule)).toBe(
      'any where event.dataset == "azure.auditlogs" and azure.auditlogs.operation_name : "Disable Strong Authentication" and event.outcome : "success"',
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, true, false, false, false, false])
    const negated = sigma(
      "  sel:\n    operationName: 'Disable Strong Authentication'\n  fail:\n    properties.result: [failure, Success]\n  condition: sel and not fail",
      AUDIT,
    )
    expect(await expectEquivalent(negated, events)).toEqual([false, false, false, true, true, false])
  })

  it('refuses a test that another result (left out of event.outcome) or the lower-casing would answer otherwise', () => {
    const code = (sel: string) =>
      backend.compile(sigma(`  sel:\n    ${sel}\n  condition: sel`, AUDIT)).diagnostics[0]?.code
    expect(code("properties.result|contains: 'out'")).toBe('target/unsupported-match')
    expect(code('properties.result: null')).toBe('target/unsupported-match')
    expect(code('properties.result|cased: Success')).toBe('target/unsupported-match')
    expect(code('properties.result: timeout')).toBe('target/unsupported-match')
  })

  it('a non-text result is no audit record: left out, not judged', async () => {
    const v = await verifier.verify(
      eql(rule),
      withOrigin([{ ...op, properties: { result: ['success'] } }], rule.logsource),
    )
    expect(v.unrepresentable).toEqual([0])
  })

  it('without only: a map compiles a test the move does not keep, and the proof fails', async () => {
    const pipeline = write(
      join(scratch(), 'audit.yml'),
      'logsources:\n  azure-auditlogs:\n    match: { product: azure, service: auditlogs }\n    constants: { event.dataset: azure.auditlogs }\n    fields:\n      properties.result: event.outcome\n',
    )
    const r = sigma("  sel:\n    properties.result|contains: 'out'\n  condition: sel", AUDIT)
    const eq = await checkEquivalence(r, events, backend, verifier, { pipeline })
    expect(eq.query).toBe('any where event.dataset == "azure.auditlogs" and event.outcome : "*out*"')
    expect(eq.mismatches).toEqual([3])
  })
})

describe('eql: Azure activity log ResourceId', () => {
  it('is the resource ID where the shared pipeline leaves it, cloud.resource_id; the intermediate azure.resource_id or another field fails the proof', async () => {
    const rule = sigma(
      "  sel:\n    operationName: 'Microsoft.ADHybridHealthService/services/delete'\n    ResourceId|contains: AdFederationService\n  condition: sel",
      'product: azure\n  service: activitylogs',
    )
    const op = { operationName: 'Microsoft.ADHybridHealthService/services/delete' }
    const events = [
      { ...op, ResourceId: '/providers/Microsoft.ADHybridHealthService/services/AdFederationService-contoso.com' },
      { ...op, ResourceId: '/providers/Microsoft.ADHybridHealthService/services/AdSyncService-contoso.com' },
    ]
    const q = eql(rule)
    expect(q).toBe(
      'any where event.dataset == "azure.activitylogs" and azure.activitylogs.operation_name : "Microsoft.ADHybridHealthService/services/delete" and cloud.resource_id : "*AdFederationService*"',
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, false])
    const old = await checkQuery(rule, q.replace('cloud.resource_id', 'azure.resource_id'), events, verifier)
    // No record holds azure.resource_id once the shared pipeline has run: the schema has no such field.
    expect(old.diagnostics.map((d) => d.message)).toEqual([
      'eql: cannot evaluate the query: unknown field azure.resource_id',
    ])
    const wrong = await checkQuery(
      rule,
      q.replace('cloud.resource_id', 'azure.activitylogs.operation_name'),
      events,
      verifier,
    )
    expect(wrong.mismatches).toEqual([0])
  })
})

describe('eql: Okta empty values', () => {
  it('the okta pipeline drops an empty value: such an event is left out, not judged', async () => {
    const rule = sigma(
      "  sel:\n    eventType: user.session.start\n    outcome.reason: ''\n  condition: sel",
      'product: okta\n  service: okta',
    )
    const v = await verifier.verify(
      eql(rule),
      withOrigin(
        [
          { eventType: 'user.session.start', outcome: { reason: '' } },
          { eventType: 'user.session.start', outcome: { reason: 'x' } },
        ],
        rule.logsource,
      ),
    )
    expect(v.unrepresentable).toEqual([0])
    expect(v.matches?.[1]).toBe(false)
  })
})
