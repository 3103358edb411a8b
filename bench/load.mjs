#!/usr/bin/env node
// Time loading (YAML, schema, checks, AST) of every rule under the given paths, best of N runs:
//   npm run build && node bench/load.mjs --runs 5 path/to/sigma/rules*
const argv = process.argv.slice(2)
const i = argv.indexOf('--runs')
const runs = i >= 0 ? Number(argv.splice(i, 2)[1]) : 3
const { loadPaths } = await import('../dist/src/rule/load.js')
const times = []
let rules = 0
for (let r = 0; r < runs; r++) {
  const t = performance.now()
  rules = loadPaths(argv).rules.length
  times.push(performance.now() - t)
}
times.sort((a, b) => a - b)
console.log(
  `rules ${rules}; load best ${times[0].toFixed(0)} ms, median ${times[Math.floor(times.length / 2)].toFixed(0)} ms over ${runs} runs`,
)
