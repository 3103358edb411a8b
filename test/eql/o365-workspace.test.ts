/**
 * Microsoft 365 through Elastic's o365 integration and Google Workspace admin activity through its
 * google_workspace integration (targets/eql/target.yml): pinned by event.dataset, fields under the
 * names the ingest pipelines give them, and the o365 pipeline's replacement of some Operation
 * values in event.action either shown not to matter to the rule or refused. The proof fails when a
 * field or the pin is wrong, and when a query reads a replaced Operation as written.
 */
import { describe, expect, it } from 'vitest'
import { checkQuery } from '../../src/proof/equivalence.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { eql, expectEquivalent, sigma } from './helpers.js'

const M365 = (service: string) => `product: m365\n  service: ${service}`
const codes = (detection: string, ls: string) => backend.compile(sigma(detection, ls)).diagnostics.map((d) => d.code)

describe('eql: Microsoft 365 (o365.audit)', () => {
  const alert = sigma(
    "  sel:\n    eventSource: SecurityComplianceCenter\n    eventName: 'Potential ransomware activity'\n    status: success\n  condition: sel",
    M365('threat_management'),
  )
  const events = [
    { eventSource: 'SecurityComplianceCenter', eventName: 'Potential ransomware activity', status: 'success' },
    { eventSource: 'SecurityComplianceCenter', eventName: 'Potential ransomware activity', status: 'failure' },
    { eventSource: 'Exchange', eventName: 'Potential ransomware activity', status: 'success' },
  ]

  it('eventSource, eventName, status → event.provider, event.action, event.outcome, pinned to the data stream', async () => {
    expect(eql(alert)).toBe(
      'any where event.dataset == "o365.audit" and event.provider : "SecurityComplianceCenter" and ' +
        'event.action : "Potential ransomware activity" and event.outcome : "success"',
    )
    expect(await expectEquivalent(alert, events)).toEqual([true, false, false])
  })

  it('the proof fails with a wrong field for status, or a wrong data stream', async () => {
    const q = eql(alert)
    const wrongField = await checkQuery(alert, q.replace('event.outcome', 'o365.audit.ResultStatus'), events, verifier)
    expect(wrongField.mismatches).toEqual([0])
    const wrongStream = await checkQuery(alert, q.replace('"o365.audit"', '"azure.auditlogs"'), events, verifier)
    expect(wrongStream.mismatches).toEqual([0])
  })

  it('Operation: a test the pipeline replacement cannot change compiles, one it can is refused', async () => {
    const mfa = sigma(
      "  sel:\n    Operation|contains: 'Disable Strong Authentication.'\n  condition: sel",
      M365('audit'),
    )
    expect(eql(mfa)).toBe(
      'any where event.dataset == "o365.audit" and event.action : "*Disable Strong Authentication.*"',
    )
    await expectEquivalent(mfa, [
      { Operation: 'Disable Strong Authentication.', RecordType: 8 },
      { Operation: 'Add user.', RecordType: 8 },
    ])
    // "TeamCreated" → "added-group-account-to": `contains: add` alone tells them apart; with
    // `contains: domain` beside it, the whole test answers alike.
    expect(codes("  sel:\n    Operation|contains: 'add'\n  condition: sel", M365('audit'))).toEqual([
      'target/unsupported-match',
    ])
    const domain = sigma(
      '  a:\n    Operation|contains: domain\n  b:\n    Operation|contains:\n      - add\n      - new\n  condition: a and b',
      M365('audit'),
    )
    expect(eql(domain)).toBe(
      'any where event.dataset == "o365.audit" and event.action : "*domain*" and event.action : ("*add*", "*new*")',
    )
    await expectEquivalent(domain, [
      { Operation: 'Add-FederatedDomain', RecordType: 1 },
      { Operation: 'TeamCreated', RecordType: 25 },
      { Operation: 'Set-Domain', RecordType: 1 },
    ])
  })

  it('the proof sees Azure AD\'s "Add user." indexed as added-user-account', async () => {
    const add = sigma("  sel:\n    Operation: 'Add user.'\n  condition: sel", M365('audit'))
    expect(codes("  sel:\n    Operation: 'Add user.'\n  condition: sel", M365('audit'))).toEqual([
      'target/unsupported-match',
    ])
    // The query a map without the replacement would write: right for other record types only.
    const naive = 'any where event.dataset == "o365.audit" and event.action : "Add user."'
    const r = await checkQuery(
      add,
      naive,
      [
        { Operation: 'Add user.', RecordType: 8 },
        { Operation: 'Add user.', RecordType: 15 },
      ],
      verifier,
    )
    expect(r.mismatches).toEqual([0])
  })

  it('ObjectId and Payload, which the pipeline moves or does not keep, are refused', () => {
    expect(codes('  sel:\n    ObjectId: x\n  condition: sel', M365('audit'))).toEqual(['target/unknown-field'])
    expect(codes('  sel:\n    Payload|contains: pst\n  condition: sel', M365('threat_management'))).toEqual([
      'target/unknown-field',
    ])
  })
})

describe('eql: Google Workspace admin (google_workspace.admin)', () => {
  const WS = 'product: gcp\n  service: google_workspace.admin'

  it('eventName → event.action; eventService, setting_name and new_value are refused', async () => {
    const r = sigma('  sel:\n    eventName:\n      - DELETE_ROLE\n      - RENAME_ROLE\n  condition: sel', WS)
    expect(eql(r)).toBe(
      'any where event.dataset == "google_workspace.admin" and event.action : ("DELETE_ROLE", "RENAME_ROLE")',
    )
    await expectEquivalent(r, [{ eventName: 'DELETE_ROLE' }, { eventName: 'CREATE_ROLE' }])
    for (const f of ['eventService: admin.googleapis.com', 'setting_name: x', "new_value: 'false'"])
      expect(codes(`  sel:\n    ${f}\n  condition: sel`, WS)).toEqual(['target/unknown-field'])
  })
})
