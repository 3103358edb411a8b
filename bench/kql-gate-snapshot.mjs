#!/usr/bin/env node
// The KQL gate's snapshot (src/verify/kql-gate-snapshot.ts), built and checked against the
// in-process parser on a whole corpus. Needs a build first:
//
//   npx tsc -p tsconfig.json && node bench/kql-gate-snapshot.mjs ../shared/corpus/sigmahq/rules
//
// 1. builds a snapshot in the foreground into a scratch cache folder, the way the gate's detached
//    build does (lock, build, canaries, publish): its size and build time;
// 2. compiles every rule of the corpus for kql (each family), adds broken copies of the queries
//    (an unknown column, an unclosed parenthesis, a bad escape, a stray pipe), and asks each query
//    of the in-process parser, of a child started from the snapshot, and of a child that loads the
//    package's readable (non-minified) bundle files: all three must give the same diagnostics;
// 3. prints the timings. Exit 1 on any difference.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

const paths = process.argv.slice(2)
if (paths.length === 0) {
  console.error('usage: node bench/kql-gate-snapshot.mjs PATHS…')
  process.exit(2)
}
const snap = await import('../dist/src/verify/kql-gate-snapshot.js')
const parser = await import('../dist/src/verify/kql-parser.js')
const { loadPaths } = await import('../dist/src/rule/load.js')
const { backend } = await import('../dist/src/backends/kql.js')

const dir = mkdtempSync(join(tmpdir(), 'rulesmith-gate-snapshot-'))
try {
  let t = performance.now()
  const work = snap.prepareBuild(dir)
  if (!work) throw new Error('cannot prepare a snapshot build (dist/ built?)')
  const prepareMs = performance.now() - t
  const built = snap.runBuildJob(work)
  console.log(
    `snapshot: ${built.ok ? 'built' : 'FAILED: ' + built.why}, ${((built.size ?? 0) / 1e6).toFixed(1)} MB, ` +
      `build and canaries ${(built.ms / 1000).toFixed(2)} s wall (job prepared in ${(prepareMs / 1000).toFixed(2)} s, the parser loaded in-process for the canaries)`,
  )
  if (!built.ok) process.exit(1)
  const key = snap.snapshotKey()
  const blob = snap.usableBlob(dir, key)
  if (!blob) throw new Error('the new snapshot is not usable')

  // The readable bundle files, in a child in script mode: the minified files must agree with them.
  const input = snap.snapshotInput()
  const readable = { ...input, bundle: input.bundle.map((f) => f.replace(/\.min\.js$/, '.js')), warm: [] }
  const readableInput = join(dir, 'readable.json')
  writeFileSync(readableInput, JSON.stringify(readable))

  const loaded = loadPaths(paths)
  const families = ['defender', 'sentinel', 'asim']
  const queries = []
  for (const variant of families)
    for (const rule of loaded.rules) {
      let q
      try {
        q = backend.compile(rule, { variant }).query
      } catch {
        continue
      }
      if (q === undefined) continue
      queries.push([variant, q])
    }
  const valid = queries.length
  // Broken copies of every 10th query: each must fail the same way on every path.
  for (const [variant, q] of queries.slice(0, valid).filter((_, i) => i % 10 === 0)) {
    queries.push([variant, q.replace(/\| where /, '| where NoSuchColumn == 1 and ')])
    queries.push([variant, q.replace('(', '((')])
    queries.push([variant, q.replace(/"/, '"\\q')])
    queries.push([variant, q + '\n|'])
  }
  console.log(`queries: ${valid} compiled (${families.join(', ')}), ${queries.length - valid} broken copies`)

  const fromSnapshot = snap.startGateChild(dir, key, ['--snapshot-blob', blob])
  const fromReadable = snap.startGateChild(dir, key, [snap.childScriptPath(), readableInput])
  const times = { inProcess: 0, snapshot: 0 }
  let differences = 0
  let withErrors = 0
  const show = (x) => JSON.stringify(x)
  // The first answer includes the child's start-up (the parser is loaded here already, for the canaries).
  t = performance.now()
  await fromSnapshot.check(queries[0][1], queries[0][0])
  times.snapshotFirst = performance.now() - t
  for (const [variant, query] of queries) {
    t = performance.now()
    const a = parser.kustoErrors(query, variant)
    times.inProcess += performance.now() - t
    t = performance.now()
    const b = await fromSnapshot.check(query, variant)
    times.snapshot += performance.now() - t
    const c = await fromReadable.check(query, variant)
    if (a.some((d) => d.severity === 'Error')) withErrors++
    if (show(a) !== show(b) || show(a) !== show(c)) {
      differences++
      if (differences <= 5)
        console.log(
          `DIFFERENT (${variant}):\n${query}\n in-process ${show(a)}\n snapshot ${show(b)}\n readable ${show(c)}`,
        )
    }
  }
  await fromSnapshot.close()
  await fromReadable.close()
  console.log(
    `answers: ${queries.length} queries, ${withErrors} with errors, ${differences} different between in-process (minified), snapshot child and readable bundle`,
  )
  console.log(
    `first answer of the snapshot child (its start-up included): ${times.snapshotFirst.toFixed(0)} ms` +
      `; all queries: in-process ${(times.inProcess / 1000).toFixed(2)} s, snapshot child ${(times.snapshot / 1000).toFixed(2)} s (with the round trip)`,
  )
  if (differences > 0) process.exitCode = 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
