/**
 * Events a target's schema cannot hold as written are left out of equivalence checks. That
 * must stay narrow: only values the target would coerce or reject, never ordinary ones.
 */
import { withOrigin } from '../../src/origin.js'
import { describe, expect, it } from 'vitest'
import { sigma } from '../support/rules.js'
import { loadBackend } from '../../src/backends/index.js'
import { loadVerifier } from '../../src/verify/index.js'
import type { TargetId } from '../../src/backends/types.js'

async function unrepresentable(
  target: TargetId,
  detection: string,
  logsource: string,
  events: Record<string, unknown>[],
  variant?: string,
): Promise<readonly number[]> {
  const rule = sigma(detection, logsource)
  const options = variant ? { variant } : {}
  const c = (await loadBackend(target)).compile(rule, options)
  expect(c.query, JSON.stringify(c.diagnostics)).toBeDefined()
  const v = await (await loadVerifier(target)).verify(c.query!, withOrigin(events, rule.logsource), options)
  expect(v.matches).toHaveLength(events.length)
  return v.unrepresentable ?? []
}

const SECURITY = 'product: windows\n  service: security'
const EVENT_4688 = `
  sel:
    EventID: 4688
  condition: sel`
const padded = [{ EventID: 4688 }, { EventID: '4688' }, { EventID: ' 4688 ' }, { EventID: '4688.5' }, {}]

describe('unrepresentable events', () => {
  it('eql: a long field holds integers as written; padded or fractional text is coerced by Elasticsearch', async () => {
    const ports = [
      { DestinationPort: 443 },
      { DestinationPort: '443' },
      { DestinationPort: ' 443 ' },
      { DestinationPort: '443.5' },
      {},
    ]
    expect(
      await unrepresentable(
        'eql',
        `
  sel:
    DestinationPort: 443
  condition: sel`,
        'product: windows\n  category: network_connection',
        ports,
      ),
    ).toEqual([2, 3])
  })

  it('eql: winlog.event_id is a keyword field, so any text is held as written', async () => {
    expect(await unrepresentable('eql', EVENT_4688, SECURITY, padded)).toEqual([])
  })

  it('eql: an ip field holds addresses, and an IPv4-mapped IPv6 address is stored as IPv4', async () => {
    const ips = [
      { DestinationIp: '10.0.0.1' },
      { DestinationIp: 'fe80::1' },
      { DestinationIp: '::ffff:10.0.0.1' },
      { DestinationIp: 'not an ip' },
    ]
    expect(
      await unrepresentable(
        'eql',
        `
  sel:
    DestinationIp|cidr: 10.0.0.0/8
  condition: sel`,
        'product: windows\n  category: network_connection',
        ips,
      ),
    ).toEqual([2, 3])
  })

  it('osquery: an INTEGER column holds integers; padded text is changed by SQLite affinity', async () => {
    expect(await unrepresentable('osquery', EVENT_4688, SECURITY, padded)).toEqual([2, 3])
  })

  it('kql: text in an int column cannot be a row', async () => {
    expect(
      await unrepresentable('kql', EVENT_4688, SECURITY, [{ EventID: 4688 }, { EventID: 'abc' }, {}], 'sentinel'),
    ).toEqual([1])
  })

  it('spl: every event is a row (Splunk fields are text)', async () => {
    expect(await unrepresentable('spl', EVENT_4688, SECURITY, padded)).toEqual([])
  })
})
