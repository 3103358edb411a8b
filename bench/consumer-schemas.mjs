#!/usr/bin/env node
// Every rule under PATHS rendered in each consumer's format and checked against that consumer's
// published schema or validation rules (src/formats/consumers/): Sentinel analytics YAML and ARM,
// Defender XDR detectionRule, Elastic EQL rule NDJSON, Splunk savedsearches.conf (ES and core).
// Prints, per format, files rendered, files passing and the most common violations. Writes
// nothing. Needs a build first:
//   npx tsc -p tsconfig.json && node bench/consumer-schemas.mjs rules/ ../shared/corpus/sigmahq/rules/windows
// --dist DIR renders with another build (say an older commit's dist/) and checks with this one's.
import { performance } from 'node:perf_hooks'

const args = process.argv.slice(2)
const distAt = args.indexOf('--dist')
const dist = distAt >= 0 ? args.splice(distAt, 2)[1] : new URL('../dist', import.meta.url).pathname
const paths = args
if (paths.length === 0) {
  console.error('usage: node bench/consumer-schemas.mjs [--dist DIR] PATHS…')
  process.exit(2)
}
const { loadPaths } = await import(`${dist}/src/rule/load.js`)
const { compile, targetOptions } = await import(`${dist}/src/api.js`)
const { DEFAULT_CONFIG } = await import(`${dist}/src/config.js`)
const { renderFormat, ruleVars, formatsOf } = await import(`${dist}/src/formats/render.js`)
const here = new URL('../dist/src/formats/consumers/', import.meta.url).pathname
const { checkSentinelYaml, checkSentinelArm } = await import(`${here}sentinel.js`)
const { checkDefenderRule } = await import(`${here}defender.js`)
const { checkElasticRule } = await import(`${here}elastic.js`)
const { checkSavedSearches } = await import(`${here}splunk.js`)

/** [target, variant, format, checker] */
const FORMATS = [
  ['kql', 'sentinel', 'sentinel', checkSentinelYaml],
  ['kql', 'sentinel', 'arm', checkSentinelArm],
  ['kql', 'defender', 'defender', checkDefenderRule],
  ['eql', undefined, 'elastic', checkElasticRule],
  ['spl', undefined, 'savedsearches', (t) => checkSavedSearches(t, 'es')],
  ['spl', undefined, 'savedsearches-core', (t) => checkSavedSearches(t, 'core')],
]

const t0 = performance.now()
const loaded = loadPaths(paths, { placeholders: {} })
const rules = loaded.rules
const stats = new Map()
for (const rule of rules) {
  const vars = ruleVars(rule)
  for (const [target, variant, format, check] of FORMATS) {
    if (!formatsOf(target).includes(format)) continue
    const key = `${target}/${format}`
    const s = stats.get(key) ?? { rendered: 0, refused: 0, passed: 0, messages: new Map() }
    stats.set(key, s)
    const options = { ...targetOptions(DEFAULT_CONFIG, target), ...(variant ? { variant } : {}) }
    let compiled
    try {
      compiled = await compile(rule, target, options)
    } catch {
      compiled = {}
    }
    if (compiled.query === undefined) {
      s.refused++
      continue
    }
    let text
    try {
      text = await renderFormat(
        target,
        { name: format },
        { rule: vars, query: compiled.query, target, context: compiled.context ?? {} },
      )
    } catch {
      s.refused++
      continue
    }
    s.rendered++
    const violations = check(text)
    if (violations.length === 0) s.passed++
    for (const v of new Set(
      violations.map((x) => x.message.replace(/T\d{4}(\.\d{3})?/g, 'T…').replace(/"[^"]*"/g, '"…"')),
    ))
      s.messages.set(v, (s.messages.get(v) ?? 0) + 1)
  }
}
console.log(
  `${rules.length} rules in ${loaded.files.length} files (${((performance.now() - t0) / 1000).toFixed(1)} s), rendered with ${dist}`,
)
for (const [key, s] of stats) {
  console.log(
    `${key.padEnd(22)} ${String(s.passed).padStart(5)} of ${String(s.rendered).padStart(5)} pass (${s.refused} not rendered: refused by the target)`,
  )
  for (const [m, n] of [...s.messages].sort((a, b) => b[1] - a[1]).slice(0, 6))
    console.log(`    ${String(n).padStart(5)}  ${m}`)
}
