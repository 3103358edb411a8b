/**
 * Cloud and SaaS log sources through Elastic's integrations (targets/eql/target.yml): the data
 * stream's event.dataset pins the log source, fields get the integration's names and types, and a
 * field no integration keeps searchable is refused. The proof catches a query that drops the pin.
 */
import { describe, expect, it } from 'vitest'
import { withOrigin } from '../../src/origin.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { eql, expectEquivalent, sigma, WIN_PROC } from './helpers.js'

const AWS = 'product: aws\n  service: cloudtrail'

describe('eql: cloud integrations', () => {
  it('CloudTrail: event.dataset, eventName → event.action, errorCode → aws.cloudtrail.error_code', () => {
    const r = sigma('  sel:\n    eventName: DeleteTrail\n    errorCode: null\n  condition: sel', AWS)
    expect(eql(r)).toBe(
      'any where event.dataset == "aws.cloudtrail" and event.action : "DeleteTrail" and aws.cloudtrail.error_code == null',
    )
  })

  it.each([
    ['azure', 'activitylogs', 'operationName', 'azure.activitylogs.operation_name'],
    ['azure', 'signinlogs', 'ResultType', 'azure.signinlogs.result_type'],
    ['azure', 'riskdetection', 'riskEventType', 'azure.identityprotection.properties.risk_event_type'],
    ['okta', 'okta', 'eventType', 'okta.event_type'],
    ['gcp', 'gcp.audit', 'gcp.audit.method_name', 'gcp.audit.method_name'],
    ['github', 'audit', 'action', 'event.action'],
    ['kubernetes', 'audit', 'verb', 'kubernetes.audit.verb'],
  ])('%s/%s: %s → %s', (product, service, field, ecs) => {
    const q = eql(sigma(`  sel:\n    ${field}: x\n  condition: sel`, `product: ${product}\n  service: ${service}`))
    expect(q).toMatch(/^any where event\.dataset == "[a-z_.]+" and /)
    expect(q).toContain(`${ecs} : "x"`)
  })

  it('refuses flattened, boolean and unmapped fields by name', () => {
    const codes = (detection: string, ls: string) =>
      backend.compile(sigma(detection, ls)).diagnostics.map((d) => [d.code, d.message.split(':')[0]])
    expect(codes('  sel:\n    requestParameters.attribute: userData\n  condition: sel', AWS)).toEqual([
      [
        'target/unsupported-field-type',
        'eql cannot search the flattened field aws.cloudtrail.flattened.request_parameters.attribute (for Sigma field requestParameters.attribute)',
      ],
    ])
    expect(
      codes('  sel:\n    securityContext.isProxy: true\n  condition: sel', 'product: okta\n  service: okta')[0]![0],
    ).toBe('target/unsupported-field-type')
    expect(
      codes(
        "  sel:\n    properties.message: 'Add user'\n  condition: sel",
        'product: azure\n  service: auditlogs',
      )[0]![0],
    ).toBe('target/unknown-field')
  })

  it('proves the pin: without event.dataset a GitHub record with the same event.action is selected', async () => {
    const rule = sigma('  sel:\n    eventName: repo.create\n  condition: sel', AWS)
    const events = [
      { eventName: 'repo.create' },
      { action: 'repo.create', _logsource: { product: 'github', service: 'audit' } },
    ]
    await expectEquivalent(rule, events)
    const q = eql(rule).replace('event.dataset == "aws.cloudtrail" and ', '')
    const r = await checkQuery(rule, q, events, verifier)
    expect(r.mismatches).toEqual([1])
  })

  it('an empty value the CloudTrail pipeline drops is left out, not judged', async () => {
    const rule = sigma('  sel:\n    eventName: DeleteBucket\n    errorCode: null\n  condition: sel', AWS)
    const v = await verifier.verify(
      eql(rule),
      withOrigin([{ eventName: 'DeleteBucket', errorCode: '' }, { eventName: 'DeleteBucket' }], rule.logsource),
    )
    expect(v.matches).toEqual([true, true])
    expect(v.unrepresentable).toEqual([0])
  })
})

describe('eql: Security 4688 through the System integration', () => {
  const rule = sigma(
    "  sel:\n    Image|endswith: '\\sc.exe'\n    CommandLine|contains: stop\n  condition: sel",
    WIN_PROC,
  )
  const events = [
    { Channel: 'Security', EventID: 4688, Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc stop x' },
    { Channel: 'Security', EventID: 4624, Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc stop x' },
    {
      Channel: 'Security',
      EventID: 4688,
      Image: 'C:\\x\\sc.exe',
      CommandLine: 'sc stop x',
      OriginalFileName: 'sc.exe',
    },
  ]

  it('a 4688 record is a process start; one stating a field 4688 lacks is left out when the query reads it', async () => {
    expect(await expectEquivalent(rule, events)).toEqual([true, false, true])
    const byName = sigma('  sel:\n    OriginalFileName: sc.exe\n  condition: sel', WIN_PROC)
    const v = await verifier.verify(eql(byName), withOrigin(events, byName.logsource))
    expect(v.unrepresentable).toEqual([2])
  })

  it('proves the category: a query over file events misses the 4688 records', async () => {
    const r = await checkQuery(rule, eql(rule).replace(/^process where/, 'file where'), events, verifier)
    expect(r.mismatches).toEqual([0, 2])
  })
})

describe('eql: PowerShell module logging in both PowerShell channels', () => {
  const rule = sigma(
    "  sel:\n    Payload|contains: 'Set-PSReadlineOption'\n  condition: sel",
    'product: windows\n  category: ps_module',
  )
  const payload = 'CommandInvocation(Set-PSReadlineOption): "Set-PSReadlineOption"'
  const events = [
    { Channel: 'Microsoft-Windows-PowerShell/Operational', EventID: 4103, Payload: payload },
    { Channel: 'PowerShellCore/Operational', EventID: 4103, Payload: payload },
    { Channel: 'PowerShellCore/Operational', EventID: 4104, Payload: payload },
    { Channel: 'Windows PowerShell', EventID: 800, Payload: payload },
  ]

  it('a PowerShell 7 record (PowerShellCore/Operational) is a ps_module record; a query pinning one channel misses it', async () => {
    expect(eql(rule)).toMatch(
      /^any where winlog\.channel in \("Microsoft-Windows-PowerShell\/Operational", "PowerShellCore\/Operational"\) and winlog\.event_id == "4103" and /,
    )
    expect(await expectEquivalent(rule, events)).toEqual([true, true, false, false])
    const oneChannel = eql(rule).replace(
      'winlog.channel in ("Microsoft-Windows-PowerShell/Operational", "PowerShellCore/Operational")',
      'winlog.channel == "Microsoft-Windows-PowerShell/Operational"',
    )
    expect((await checkQuery(rule, oneChannel, events, verifier)).mismatches).toEqual([1])
  })
})

describe('eql: AppLocker and Security-Mitigations channels', () => {
  const rule = sigma('  sel:\n    EventID: 8004\n  condition: sel', 'product: windows\n  service: applocker')
  const events = [
    { Channel: 'Microsoft-Windows-AppLocker/EXE and DLL', EventID: 8004 },
    { Channel: 'Microsoft-Windows-AppLocker/MSI and Script', EventID: 8004 },
    { Channel: 'System', EventID: 8004 },
  ]

  it('pins the taxonomy’s four AppLocker channels; a query pinning another channel fails the proof', async () => {
    expect(eql(rule)).toMatch(/^any where winlog\.channel in \("Microsoft-Windows-AppLocker\/MSI and Script", /)
    expect(await expectEquivalent(rule, events)).toEqual([true, true, false])
    const wrong = eql(rule).replace('AppLocker/EXE and DLL"', 'AppLocker/EXE and DLLs"')
    expect((await checkQuery(rule, wrong, events, verifier)).mismatches).toEqual([0])
  })

  it('Security-Mitigations: Kernel Mode and User Mode', () => {
    const q = eql(
      sigma('  sel:\n    EventID: 11\n  condition: sel', 'product: windows\n  service: security-mitigations'),
    )
    expect(q).toBe(
      'any where winlog.channel in ("Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode") and winlog.event_id : "11"',
    )
  })
})
