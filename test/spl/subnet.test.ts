/**
 * A plain Sigma value that looks like an address or a subnet (`DestinationIp: '10.0.0.0/8'`) is
 * text to Sigma, but Splunk's `search` matches such a value as a subnet even when it is quoted
 * (docs/targets/spl.md [S8]). The backend writes it as a text compare in `where`; the verifier
 * reads it in `search` as a subnet, so the old emission is caught.
 */
import { describe, expect, it } from 'vitest'
import { withOrigin } from '../../src/origin.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/spl.js'
import { compileOk, mismatches, processRule, SYSMON1 } from './helpers.js'

const IP_EVENTS: JsonEvent[] = [
  { DestinationIp: '10.1.2.3' },
  { DestinationIp: '10.0.0.0/8' },
  { DestinationIp: '10.0.0.0' },
  { DestinationIp: '11.0.0.1' },
  { DestinationIp: 'fe80::1' },
  { DestinationIp: 'FE80:0:0:0:0:0:0:1' },
  { DestinationIp: 'fe80::/10' },
  { DestinationIp: 'FE80::/10' },
  { DestinationIp: ['x', '10.0.0.0/8'] },
  { DestinationIp: ['10.9.9.9', 'y'] },
  {},
]

describe('spl: values that search would read as subnets', () => {
  for (const value of ['10.0.0.0/8', '10.1.2.3', 'fe80::/10', 'fe80::1']) {
    it(`'${value}' as a plain value, alone, in a list and under not, agrees with the rule`, async () => {
      for (const [detection, condition] of [
        [`sel:\n  DestinationIp: '${value}'`, 'sel'],
        [`sel:\n  DestinationIp: ['${value}', 'x']`, 'sel'],
        [`sel:\n  Image: '*'\nfilter:\n  DestinationIp: '${value}'`, 'sel and not filter'],
      ] as const) {
        const events = IP_EVENTS.map((e) => ({ Image: 'a', ...e }))
        const r = await mismatches(processRule(detection, condition), events)
        expect(r.errors).toEqual([])
        expect(r.query).not.toMatch(/DestinationIp[= ]/)
        expect(r.mismatches.map((i) => events[i])).toEqual([])
      }
    })
  }

  it('mutation: the old emission, the subnet quoted in search, fails verification on 10.1.2.3', async () => {
    const rule = processRule("sel:\n  DestinationIp: '10.0.0.0/8'")
    const now = compileOk(rule)
    expect(now).toContain('| where ')
    const old = `${SYSMON1} DestinationIp="10.0.0.0/8"`
    const events: JsonEvent[] = [{ DestinationIp: '10.1.2.3' }, { DestinationIp: '10.0.0.0/8' }]
    expect((await checkQuery(rule, now, events, verifier)).mismatches).toEqual([])
    const r = await checkQuery(rule, old, events, verifier)
    // 10.1.2.3 is in the subnet for Splunk, not the text for Sigma; the text is no address for Splunk.
    expect(r.expected).toEqual([false, true])
    expect(r.actual).toEqual([true, false])
    expect(r.mismatches).toEqual([0, 1])
    const v = await verifier.verify(old, withOrigin([{ DestinationIp: '10.1.2.3' }], rule.logsource))
    expect(v.matches).toEqual([true])
  })
})
