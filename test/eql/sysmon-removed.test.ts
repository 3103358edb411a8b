/**
 * Both Elastic Sysmon pipelines (the Windows integration's sysmon_operational, Winlogbeat's sysmon
 * module) remove every event data entry whose value is "", "-" or the zero GUID before any rename:
 * the record holds no such field. The verifier lands Sysmon events so; the backend refuses a test
 * that tells such a value from a missing field, unless the condition around it answers alike.
 */
import { describe, expect, it } from 'vitest'
import { withOrigin } from '../../src/origin.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { eql, expectEquivalent, sigma } from './helpers.js'

const ZERO_GUID = '{00000000-0000-0000-0000-000000000000}'
const MESSAGE = "Elastic's Sysmon pipeline removes event data values '', '-' and the zero GUID, so eql cannot tell"

const refusals = (rule: ReturnType<typeof sigma>): string[] =>
  backend.compile(rule).diagnostics.map((d) => `${d.code}: ${d.message}`)

describe('eql: event data values the Sysmon pipelines remove', () => {
  it('the verifier holds no event data field for "", "-" or the zero GUID; system fields, other values and lists stay', async () => {
    const rule = sigma('  sel:\n    Name: x\n  condition: sel', 'product: windows\n  service: sysmon')
    const query = 'any where ?winlog.event_data.Name != null'
    const events = [
      { EventID: 1, Name: '-' },
      { EventID: 1, Name: '' },
      { EventID: 1, Name: ZERO_GUID },
      { EventID: 1, Name: '--' },
      { EventID: 1, Name: ['-'] },
      { EventID: 1, Name: 'x' },
    ]
    const v = await verifier.verify(query, withOrigin(events, rule.logsource))
    expect(v.matches).toEqual([false, false, false, true, true, true])
    expect(v.unrepresentable).toEqual([])
    // The winlog system fields are not event data.
    const computer = await verifier.verify(
      'any where winlog.computer_name == "-"',
      withOrigin([{ EventID: 1, Computer: '-' }], rule.logsource),
    )
    expect(computer.matches).toEqual([true])
  })

  const filtered = sigma(
    "  sel:\n    Image|endswith: '\\x.exe'\n  filter:\n    ParentImage: '-'\n  condition: sel and not filter",
  )
  const events = [
    { Image: 'C:\\x.exe', ParentImage: '-' },
    { Image: 'C:\\x.exe', ParentImage: 'C:\\p.exe' },
    { Image: 'C:\\x.exe' },
  ]

  it("a filter on '-' is refused, naming the field and the value", () => {
    expect(refusals(filtered)).toEqual([`target/unsupported-match: ${MESSAGE} ParentImage = '-' from a missing field`])
    const nulls = sigma("  sel:\n    Image|endswith: '\\x.exe'\n    User: null\n  condition: sel")
    expect(refusals(nulls)).toEqual([
      `target/unsupported-match: ${MESSAGE} User = '', '-' or the zero GUID from a missing field`,
    ])
    const exists = sigma('  sel:\n    LogonGuid|exists: true\n  condition: sel')
    expect(refusals(exists)[0]).toContain("LogonGuid = '', '-' or the zero GUID")
    const contains = sigma("  sel:\n    CommandLine|contains: '-'\n  condition: sel")
    // The zero GUID holds a '-' too.
    expect(refusals(contains)[0]).toContain("CommandLine = '-' or the zero GUID from")
  })

  it("the query that reads '-' as written fails the proof (the record has no ParentImage)", async () => {
    const asWritten =
      'process where event.type == "start" and process.executable : "*\\\\x.exe" and not (process.parent.executable != null and process.parent.executable : "-")'
    const r = await checkQuery(filtered, asWritten, events, verifier)
    expect(r.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'verify/mismatch')).toEqual([])
    expect(r.expected).toEqual([false, true, true])
    expect(r.mismatches).toEqual([0])
    // A null test as written: an empty User is no null in Sigma, a missing field in Elasticsearch.
    const nulls = sigma("  sel:\n    Image|endswith: '\\x.exe'\n    User: null\n  condition: sel")
    const nullQuery =
      'process where event.type == "start" and process.executable : "*\\\\x.exe" and ?winlog.event_data.User == null'
    const n = await checkQuery(nulls, nullQuery, [{ Image: 'C:\\x.exe', User: '' }, { Image: 'C:\\x.exe' }], verifier)
    expect(n.mismatches).toEqual([0])
  })

  it('a test false for every removed value and for a missing field compiles and is proven, under not too', async () => {
    const rule = sigma(
      "  sel:\n    Image|endswith: '\\x.exe'\n  filter:\n    ParentImage|endswith: '\\p.exe'\n  condition: sel and not filter",
    )
    expect(eql(rule)).toBe(
      'process where event.type == "start" and process.executable : "*\\\\x.exe" and not (process.parent.executable != null and process.parent.executable : "*\\\\p.exe")',
    )
    expect(
      await expectEquivalent(rule, [
        ...events,
        { Image: 'C:\\x.exe', ParentImage: '' },
        { Image: 'C:\\x.exe', ParentImage: ZERO_GUID },
        { Image: '-', ParentImage: '-' },
      ]),
    ).toEqual([true, false, true, true, true, false])
  })

  it('a condition that answers alike for the removed values and a missing field compiles', async () => {
    // Every removed value and null: the filter holds either way.
    const all = sigma(
      `  sel:\n    Image|endswith: '\\x.exe'\n  filter_null:\n    ParentImage: null\n  filter_empty:\n    ParentImage: ['', '-', '${ZERO_GUID}']\n  condition: sel and not 1 of filter_*`,
    )
    expect(eql(all)).not.toMatch(/^REFUSED/)
    // Image '-' fails the selection as a missing Image does, whatever the filter on Image says.
    const both = sigma(
      "  sel:\n    Image|endswith: '\\x.exe'\n    CommandLine|contains: run\n  filter:\n    Image: '-'\n  condition: sel and not filter",
    )
    expect(eql(both)).not.toMatch(/^REFUSED/)
    const evs = [
      { Image: 'C:\\x.exe', CommandLine: 'run', ParentImage: '-' },
      { Image: 'C:\\x.exe', CommandLine: 'run', ParentImage: ZERO_GUID },
      { Image: 'C:\\x.exe', CommandLine: 'run', ParentImage: 'C:\\p.exe' },
      { Image: '-', CommandLine: 'run' },
      { Image: '', CommandLine: '' },
      { Image: 'C:\\x.exe', CommandLine: 'run' },
    ]
    expect(await expectEquivalent(all, evs)).toEqual([false, false, true, false, false, false])
    expect(await expectEquivalent(both, evs)).toEqual([true, true, true, false, false, true])
  })

  it('only Sysmon log sources: the same filter through Elastic Defend (Linux) compiles', () => {
    const linux = sigma(
      "  sel:\n    Image|endswith: '/x'\n  filter:\n    ParentImage: '-'\n  condition: sel and not filter",
      'product: linux\n  category: process_creation',
    )
    expect(eql(linux)).not.toMatch(/^REFUSED/)
  })
})
