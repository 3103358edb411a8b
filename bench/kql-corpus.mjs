#!/usr/bin/env node
// Corpus run for the kql target, both schema families: compile every rule, then parse and bind
// every compiled query with Microsoft's parser (Kusto.Language) against targets/kql/schema.
// Needs a build first:
//   npx tsc -p tsconfig.json && node bench/kql-corpus.mjs ../shared/corpus/sigmahq/rules*
// Prints compiled / refused per reason / crashed and parser errors per family; exit 1 when a
// compiled query fails Microsoft's parser or a compile crashed.
import { performance } from 'node:perf_hooks'

const paths = process.argv.slice(2)
if (paths.length === 0) {
  console.error('usage: node bench/kql-corpus.mjs PATHS…')
  process.exit(2)
}
const { loadPaths } = await import('../dist/src/rule/load.js')
const { backend } = await import('../dist/src/backends/kql.js')
const { checkKql } = await import('../dist/src/verify/kql-parser.js')
const loaded = loadPaths(paths)
let failed = false
const families = process.env.KQL_FAMILIES?.split(' ') ?? ['defender', 'sentinel', 'asim', 'defender,sentinel,asim']
for (const variant of families) {
  const t0 = performance.now()
  const counts = { compiled: 0, refused: 0, crashed: 0, warnings: 0 }
  const reasons = {}
  const queries = []
  for (const rule of loaded.rules) {
    try {
      const c = backend.compile(rule, { variant })
      counts.warnings += c.diagnostics.filter((d) => d.severity === 'warning').length
      if (c.query !== undefined) {
        counts.compiled++
        queries.push([rule.file, c.query])
      } else {
        counts.refused++
        const code = c.diagnostics.find((d) => d.severity === 'error')?.code ?? '?'
        reasons[code] = (reasons[code] ?? 0) + 1
      }
    } catch (e) {
      counts.crashed++
      console.error(`crash: ${rule.file}: ${e.stack}`)
    }
  }
  const compileMs = performance.now() - t0
  const t1 = performance.now()
  let parserErrors = 0
  for (const [file, query] of queries) {
    const errors = await checkKql(query, variant)
    if (errors.length) {
      parserErrors++
      console.error(`parser: ${file}: ${errors.map((e) => e.message).join('; ')}\n${query}`)
    }
  }
  const parseMs = performance.now() - t1
  console.log(
    `kql ${variant}: rules ${loaded.rules.length}, compiled ${counts.compiled}, refused ${counts.refused}, crashed ${counts.crashed}, compile ${Math.round(compileMs)} ms; warnings ${counts.warnings}`,
  )
  for (const [code, n] of Object.entries(reasons).sort((a, b) => b[1] - a[1])) console.log(`  ${code}: ${n}`)
  console.log(
    `  Microsoft's parser: ${queries.length} queries checked, ${parserErrors} with errors, ${Math.round(parseMs)} ms`,
  )
  if (parserErrors || counts.crashed) failed = true
}
process.exit(failed ? 1 : 0)
