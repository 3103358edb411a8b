/**
 * AuditLogs' Result column holds the Entra ID audit record's properties.result (Graph's
 * directoryAudit result: success, failure, timeout, unknownFutureValue), added after reviewing the
 * target/unknown-field refusals (docs/targets/kql.md). The proof holds on audit records, and a query
 * reading ResultType (the operation's own Success/Failure) instead fails it.
 */
import { describe, expect, test } from 'vitest'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkEquivalence, checkQuery } from '../../src/proof/equivalence.js'
import { and } from '../../src/ast/nodes.js'
import type { JsonEvent, LogSource } from '../../src/rule/rule.js'
import { is, rule } from './helpers.js'

const AUDIT: LogSource = { product: 'azure', service: 'auditlogs' }
const ALL = 'defender,sentinel,asim'

describe('AuditLogs: properties.result is the Result column', () => {
  const r = rule(and([is('operationName', 'Disable Strong Authentication'), is('properties.result', 'success')]), AUDIT)
  const events: JsonEvent[] = [
    { operationName: 'Disable Strong Authentication', properties: { result: 'success' } },
    { operationName: 'Disable Strong Authentication', 'properties.result': 'Success' },
    { operationName: 'Disable Strong Authentication', properties: { result: 'failure' } },
    { operationName: 'Disable Strong Authentication', ResultType: 'success', properties: { result: 'timeout' } },
    { operationName: 'Enable Strong Authentication', properties: { result: 'success' } },
  ]
  test('equivalent on audit records; ResultType in its place fails the proof', async () => {
    const eq = await checkEquivalence(r, events, backend, verifier, { variant: ALL })
    expect(eq.query).toBe('AuditLogs\n| where OperationName =~ "Disable Strong Authentication" and Result =~ "success"')
    expect(eq.mismatches).toEqual([])
    expect(eq.actual).toEqual([true, true, false, false, false])
    const wrong = await checkQuery(r, eq.query!.replace('Result =~', 'ResultType =~'), events, verifier, {
      variant: ALL,
    })
    expect(wrong.mismatches).toEqual([0, 1, 3])
  })
})
