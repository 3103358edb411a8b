import { describe, expect, it } from 'vitest'
import { loadRuleText } from '../../src/rule/load.js'
import { resolveDocuments } from '../../src/correlation/resolve.js'
import { formatDiagnostic, sortDiagnostics } from '../../src/diagnostics.js'

/** Load several in-memory files together, as `loadPaths` does, and list the diagnostics as printed. */
function loadAll(files: Record<string, string>) {
  const loaded = Object.entries(files).map(([file, text]) => loadRuleText(text, file))
  const resolution = resolveDocuments(
    loaded.flatMap((l) => l.rules),
    loaded.flatMap((l) => l.correlations),
    loaded.flatMap((l) => l.filters),
  )
  const ds = sortDiagnostics([...loaded.flatMap((l) => l.diagnostics), ...resolution.diagnostics])
  return { resolution, lines: ds.map(formatDiagnostic).map((l) => l.replace(/: error: .*\[/, ' [')) }
}

const stop = `title: Service stopped
id: 0b0f4b52-3f3a-4a63-9d5e-0a4f3f7f1a01
name: svc_stop
logsource: { product: windows, service: system }
detection:
  sel: { EventID: 7036, param2: stopped }
  condition: sel
fields: [param1]
`

describe('correlation documents', () => {
  it('resolves references by name and id across files, and reports nothing for a sound correlation', () => {
    const { resolution, lines } = loadAll({
      'rules.yml': stop,
      'corr.yml': `title: Many stops
correlation:
  type: value_count
  rules: [svc_stop]
  group-by: [Computer]
  timespan: 10m
  condition: { field: param1, gte: 3 }
---
title: Chain
correlation:
  type: temporal_ordered
  rules: [0b0f4b52-3f3a-4a63-9d5e-0a4f3f7f1a01, svc_stop_burst]
  group-by: [Computer]
  timespan: 1h
---
title: Burst
name: svc_stop_burst
correlation: { type: event_count, rules: [svc_stop], group-by: [Computer], timespan: 5m, condition: { gte: 2 } }
`,
    })
    expect(lines).toEqual([])
    expect(resolution.correlations.map((c) => [c.correlation.title, c.members.map((m) => m.kind)])).toEqual([
      ['Many stops', ['rule']],
      ['Chain', ['rule', 'correlation']],
      ['Burst', ['rule']],
    ])
  })

  it('gives every problem its own code at file:line:col', () => {
    const { resolution, lines } = loadAll({
      'rules.yml': stop,
      'bad.yml': `title: Unknown reference and a bad timespan
correlation:
  type: event_count
  rules: [svc_stop, nosuch]
  group-by: [Computer]
  timespan: 5M
  condition: { gte: 2 }
---
title: Unknown reference
correlation:
  type: event_count
  rules: [svc_stop, nosuch]
  group-by: [Computer, Bogus]
  timespan: 5m
  condition: { gte: 2 }
---
title: A
name: loop_a
correlation: { type: temporal, rules: [loop_b, svc_stop], group-by: [Computer], timespan: 5m, condition: { gte: 3 } }
---
title: B
name: loop_b
correlation: { type: event_count, rules: [loop_a], group-by: [Computer], timespan: 5m, condition: { gte: 1 } }
---
title: Field
correlation: { type: value_sum, rules: [svc_stop], group-by: [Computer], timespan: 5m, condition: { field: Bytes, gt: 1 } }
---
title: Impossible count
correlation: { type: event_count, rules: [svc_stop], timespan: 5m, condition: { lte: 0 } }
---
title: Empty range
correlation: { type: value_avg, rules: [svc_stop], timespan: 5m, condition: { field: param1, gt: 10, lt: 5 } }
---
title: Aliases
correlation:
  type: temporal
  rules: [svc_stop, loop_a]
  group-by: [host]
  timespan: 5m
  aliases:
    host: { svc_stop: Computer, elsewhere: Computer }
---
title: Filter
logsource: { product: windows, service: security }
filter:
  rules: [svc_stop, nothing_here]
  selection: { User|startswith: adm_ }
  condition: not selection
`,
    })
    expect(lines).toEqual([
      'bad.yml:6:13 [correlation/timespan]',
      'bad.yml:12:21 [correlation/unknown-rule]',
      'bad.yml:13:24 [correlation/group-by-field]',
      'bad.yml:19:106 [correlation/unsatisfiable]',
      'bad.yml:23:43 [correlation/cycle]',
      'bad.yml:26:108 [correlation/condition-field]',
      'bad.yml:29:79 [correlation/unsatisfiable]',
      'bad.yml:32:77 [correlation/unsatisfiable]',
      'bad.yml:38:14 [correlation/alias-incomplete]',
      'bad.yml:41:33 [correlation/alias-rule]',
      'bad.yml:46:11 [filter/logsource-mismatch]',
      'bad.yml:46:21 [filter/unknown-rule]',
    ])
    expect(resolution.correlations).toEqual([])
  })

  it('folds a filter into the rules it names, by id or by log source', () => {
    const { resolution, lines } = loadAll({
      'rules.yml': stop,
      'filter.yml': `title: Admin tool
id: 5e1a3d55-1f9b-4a51-a9f0-8f4f1f1c2b11
logsource: { product: windows, service: system }
filter:
  rules: []
  selection: { param1: BackupAgent }
  condition: not selection
`,
    })
    expect(lines).toEqual([])
    expect(resolution.rules[0]!.filters).toEqual(['5e1a3d55-1f9b-4a51-a9f0-8f4f1f1c2b11'])
    expect(resolution.rules[0]!.detection.kind).toBe('And')
  })
})
