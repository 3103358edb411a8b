#!/usr/bin/env node
// Which corpus regexes the catastrophic-backtracking check (src/regex/backtracking.ts) reports:
// one line per reported regex, then the totals. Needs a build first:
//   npm run build && node bench/regex-backtracking.mjs ../shared/corpus/sigmahq/rules*
const paths = process.argv.slice(2)
if (paths.length === 0) {
  console.error('usage: node bench/regex-backtracking.mjs PATHS…')
  process.exit(2)
}
const { loadPaths } = await import('../dist/src/rule/load.js')
const { regexWarnings } = await import('../dist/src/regex/warnings.js')
const loaded = loadPaths(paths)
let regexes = 0
const count = (n) =>
  n.kind === 'And' || n.kind === 'Or'
    ? n.items.reduce((s, x) => s + count(x), 0)
    : n.kind === 'Not'
      ? count(n.item)
      : n.kind === 'Regex'
        ? 1
        : 0
const warned = new Set()
let warnings = 0
for (const rule of loaded.rules) {
  regexes += count(rule.detection)
  for (const d of regexWarnings(rule)) {
    warnings++
    warned.add(rule.file)
    console.log(`${d.file}:${(d.at?.line ?? 0) + 1}: ${d.message}`)
  }
}
console.log(`${loaded.rules.length} rules, ${regexes} regexes: ${warnings} warnings in ${warned.size} rules`)
