#!/usr/bin/env node
// Corpus run: load every rule under the given paths, compile it for the chosen targets, and
// count compiled / refused per reason / crashed, with the time taken. Needs a build first:
//   npx tsc -p tsconfig.json && node bench/corpus.mjs --target all ../shared/corpus/sigmahq/rules*
// Options: --target spl|kql|eql|osquery|all (default all), --variant NAME, --examples N,
//          --json (machine-readable), --show-queries N (print N compiled queries per target),
//          --by-logsource (refusals counted per reason and log source product/category/service).
import { performance } from 'node:perf_hooks'

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  if (i < 0) return fallback
  const v = argv[i + 1]
  argv.splice(i, 2)
  return v
}
const flag = (name) => {
  const i = argv.indexOf(`--${name}`)
  if (i < 0) return false
  argv.splice(i, 1)
  return true
}
const target = opt('target', 'all')
const variant = opt('variant', undefined)
const examples = Number(opt('examples', '2'))
const showQueries = Number(opt('show-queries', '0'))
const json = flag('json')
const byLogsource = flag('by-logsource')
if (argv.length === 0) {
  console.error('usage: node bench/corpus.mjs [--target T|all] [--variant V] PATHS…')
  process.exit(2)
}

const t0 = performance.now()
const { loadPaths } = await import('../dist/src/rule/load.js')
const { loadBackend, TARGET_IDS } = await import('../dist/src/backends/index.js')
const t1 = performance.now()
const loaded = loadPaths(argv)
const t2 = performance.now()
const targets = target === 'all' ? TARGET_IDS : [target]
const backends = await Promise.all(targets.map((t) => loadBackend(t)))
const t3 = performance.now()
const report = {
  files: loaded.files.length,
  rules: loaded.rules.length,
  invalid: countBy(
    loaded.diagnostics.filter((d) => d.severity === 'error'),
    (d) => d.code,
  ),
  loadMs: Math.round(t2 - t1),
  targets: {},
}
for (const backend of backends) {
  const started = performance.now()
  const r = { compiled: 0, refused: 0, crashed: 0, reasons: {}, byLogsource: {}, crashes: [], queries: [] }
  for (const rule of loaded.rules) {
    try {
      const c = backend.compile(rule, variant ? { variant } : {})
      if (c.query !== undefined) {
        r.compiled++
        if (r.queries.length < showQueries) r.queries.push({ file: rule.file, query: c.query })
      } else {
        r.refused++
        const d = c.diagnostics.find((x) => x.severity === 'error')
        const code = d?.code ?? '(no diagnostic!)'
        const slot = (r.reasons[code] ??= { count: 0, examples: [] })
        slot.count++
        if (slot.examples.length < examples) slot.examples.push(`${rule.file}: ${d?.message ?? ''}`)
        const ls = rule.logsource
        const where = `${code} ${[ls.product, ls.category, ls.service].map((x) => x ?? '-').join('/')}`
        r.byLogsource[where] = (r.byLogsource[where] ?? 0) + 1
      }
    } catch (e) {
      r.crashed++
      if (r.crashes.length < 10) r.crashes.push(`${rule.file}: ${e?.stack ?? e}`)
    }
  }
  r.ms = Math.round(performance.now() - started)
  report.targets[backend.id] = r
}
report.totalMs = Math.round(performance.now() - t0)
report.importMs = Math.round(t1 - t0 + (t3 - t2))

if (json) {
  console.log(JSON.stringify(report, null, 2))
} else {
  console.log(
    `files ${report.files}, rules loaded ${report.rules}, load ${report.loadMs} ms, imports ${report.importMs} ms, total ${report.totalMs} ms`,
  )
  for (const [code, n] of Object.entries(report.invalid).sort((a, b) => b[1] - a[1]))
    console.log(`  invalid: ${code} ${n}`)
  for (const [id, r] of Object.entries(report.targets)) {
    console.log(`${id}: compiled ${r.compiled}, refused ${r.refused}, crashed ${r.crashed}, ${r.ms} ms`)
    for (const [code, s] of Object.entries(r.reasons).sort((a, b) => b[1].count - a[1].count)) {
      console.log(`  ${code}: ${s.count}`)
      for (const e of s.examples) console.log(`      e.g. ${e}`)
    }
    if (byLogsource)
      for (const [k, n] of Object.entries(r.byLogsource).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)))
        console.log(`  by log source: ${n} ${k}`)
    for (const c of r.crashes) console.log(`  CRASH ${c}`)
    for (const q of r.queries) console.log(`  --- ${q.file}\n${q.query}`)
  }
}

function countBy(list, key) {
  const out = {}
  for (const x of list) out[key(x)] = (out[key(x)] ?? 0) + 1
  return out
}
