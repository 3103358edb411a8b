#!/usr/bin/env node
// Release-bundle run over a corpus: which rule files would stop a bundle (and why), then a bundle
// of the rest built twice in memory, with its size, timing and whether the two archives are
// byte-identical. Writes nothing. Needs a build first:
//   npx tsc -p tsconfig.json && node bench/bundle-corpus.mjs ../shared/corpus/sigmahq/rules
import { performance } from 'node:perf_hooks'
import { createHash } from 'node:crypto'

const paths = process.argv.slice(2)
if (paths.length === 0) {
  console.error('usage: node bench/bundle-corpus.mjs PATHS…')
  process.exit(2)
}
const { buildBundle } = await import('../dist/src/bundle/build.js')
const { collectFiles } = await import('../dist/src/rule/load.js')

const sha = (b) => createHash('sha256').update(b).digest('hex')
const t0 = performance.now()
const first = await buildBundle(paths, { skipUnsupported: true })
const t1 = performance.now()
const failing = new Set(first.failing.map((f) => f.file))
const byCode = new Map()
for (const f of first.failing) for (const d of f.diagnostics) byCode.set(d.code, (byCode.get(d.code) ?? 0) + 1)
console.log(
  `${first.files.length} files, ${first.rules} rules: ${failing.size} files would stop a bundle (${(t1 - t0).toFixed(0)} ms)`,
)
for (const [code, n] of [...byCode].sort((a, b) => b[1] - a[1]).slice(0, 12))
  console.log(`  ${String(n).padStart(5)}  ${code}`)

// The bundle of every file that passes, twice.
const ok = collectFiles(paths).files.filter((f) => !failing.has(f))
const runs = []
for (let i = 0; i < 2; i++) {
  const s = performance.now()
  const r = await buildBundle(ok, { skipUnsupported: true })
  runs.push({ r, ms: performance.now() - s })
}
const [a, b] = runs
if (!a.r.bundle || !b.r.bundle) {
  console.log(`bundle of the ${ok.length} passing files still failed: ${a.r.failing.length} failing files`)
  process.exit(1)
}
const archive = (r) => r.bundle.files.find((f) => f.path === r.bundle.archive).data
const m = a.r.bundle.manifest
const skipped = new Map()
for (const rule of m.rules) for (const s of rule.skipped) skipped.set(s.target, (skipped.get(s.target) ?? 0) + 1)
console.log(
  `bundle of ${m.rules.length} rules: ${m.rules.reduce((n, r) => n + r.artifacts.length, 0)} artifacts, ${a.r.bundle.files.length} files, archive ${(archive(a.r).length / 1024).toFixed(0)} KiB`,
)
console.log(`  skipped per target: ${[...skipped].map(([t, n]) => `${t} ${n}`).join(', ') || 'none'}`)
console.log(`  built in ${a.ms.toFixed(0)} ms and ${b.ms.toFixed(0)} ms; archive sha256 ${sha(archive(a.r))}`)
console.log(`  rebuilt byte-identical: ${sha(archive(a.r)) === sha(archive(b.r)) ? 'yes' : 'NO'}`)
