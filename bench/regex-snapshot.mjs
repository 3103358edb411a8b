#!/usr/bin/env node
// Corpus snapshot for refactors that must not change output: compile every rule under the given
// paths for spl, kql (defender and sentinel), eql and osquery, and write one line per rule and
// target (the query text, or the refusal's code and message) in a stable order, so two runs can be
// compared with `diff`. Needs a build first:
//   npx tsc -p tsconfig.json && node bench/regex-snapshot.mjs OUT.txt ../shared/corpus/sigmahq/rules*
import { writeFileSync } from 'node:fs'

const [out, ...paths] = process.argv.slice(2)
if (!out || paths.length === 0) {
  console.error('usage: node bench/regex-snapshot.mjs OUT.txt PATHS…')
  process.exit(2)
}
const { loadPaths } = await import('../dist/src/rule/load.js')
const { loadBackend } = await import('../dist/src/backends/index.js')
const loaded = loadPaths(paths)
const runs = [
  ['spl', undefined],
  ['kql', 'defender'],
  ['kql', 'sentinel'],
  ['eql', undefined],
  ['osquery', undefined],
]
const rules = [...loaded.rules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
const lines = []
for (const [target, variant] of runs) {
  const backend = await loadBackend(target)
  const label = variant ? `${target}/${variant}` : target
  for (const rule of rules) {
    let text
    try {
      const c = backend.compile(rule, variant ? { variant } : {})
      if (c.query !== undefined) text = 'Q ' + JSON.stringify(c.query)
      else {
        const d = c.diagnostics.find((x) => x.severity === 'error')
        text = `R [${d?.code}] ${JSON.stringify(d?.message ?? '')}`
      }
    } catch (e) {
      text = `CRASH ${String(e?.message ?? e)}`
    }
    lines.push(`${label} ${rule.file} ${text}`)
  }
}
writeFileSync(out, lines.join('\n') + '\n')
console.log(`${rules.length} rules × ${runs.length} runs → ${out}`)
