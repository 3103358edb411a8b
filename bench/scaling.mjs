#!/usr/bin/env node
// Is rulesmith linear in the size of its input (issue 16, item 5)? Three shapes of generated
// input, each at four sizes doubling, through the whole CLI:
//
//   list       one rule, one field with N values
//   documents  one file of N rule documents (`---`)
//   condition  one rule with N search identifiers and a condition naming each of them
//              (`s1 and not s2 or s3 and not s4 …`, no deeper than the nesting limit)
//   quantified one rule with N search identifiers and a condition of N `1 of` / `all of` patterns
//              (`1 of sel0_* or all of sel1_* …`), each matching one identifier
//
// For each shape and command it prints the median wall time of --runs runs at each size, and the
// growth of the work from one size to the next: (t(2N) − t(N)) / (t(N) − t(N/2)), which is about 2
// when the time is linear in N and about 4 when it is quadratic. The KQL gate (Microsoft's parser)
// is left out here (`validate --no-compile`, `compile`); its growth with a list is the `list` row
// of `npm run bench`.
//
//   npm run build && node bench/scaling.mjs [--runs 3] [--shapes list,documents,condition] [--scale 1]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const bin = join(here, '..', 'bin', 'rulesmith.js')
const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const runs = Number(option('--runs', '3'))
const scale = Number(option('--scale', '1'))
const shapes = option('--shapes', 'list,documents,condition,quantified').split(',')
const scratch = mkdtempSync(join(tmpdir(), 'rulesmith-scaling-'))

const header = (title) =>
  `title: ${title}\nstatus: test\ndescription: generated\nauthor: bench\ndate: 2026-12-04\nlogsource:\n  category: process_creation\n  product: windows\n`
const uuid = (i) => `0e1f7a3c-1111-4222-8333-${String(i).padStart(12, '0')}`

/** The generated file for `shape` at size `n`. */
function generate(shape, n) {
  if (shape === 'list') {
    const values = Array.from({ length: n }, (_, i) => `      - 'value${i}x'\n`).join('')
    return `${header('List')}id: ${uuid(0)}\ndetection:\n  selection:\n    CommandLine|contains:\n${values}  condition: selection\nlevel: low\n`
  }
  if (shape === 'documents') {
    return Array.from(
      { length: n },
      (_, i) =>
        `${header(`Document ${i}`)}id: ${uuid(i)}\ndetection:\n  selection:\n    Image|endswith: '\\\\tool${i}.exe'\n    CommandLine|contains: ' stop ${i}'\n  condition: selection\nlevel: low\n`,
    ).join('---\n')
  }
  if (shape === 'quantified') {
    // Each `1 of` names a pattern that its own identifier alone matches (`sel5_*` is not `sel50_x`).
    const searches = Array.from({ length: n }, (_, i) => `  sel${i}_x:\n    CommandLine|contains: 'v${i}x'\n`).join('')
    const condition = Array.from({ length: n }, (_, i) => `${i % 2 ? 'all' : '1'} of sel${i}_*`).join(' or ')
    return `${header('Quantified')}id: ${uuid(0)}\ndetection:\n${searches}  condition: ${condition}\nlevel: low\n`
  }
  // condition
  const searches = Array.from({ length: n }, (_, i) => `  s${i}:\n    CommandLine|contains: 'v${i}x'\n`).join('')
  const condition = Array.from({ length: n }, (_, i) => (i % 2 ? `not s${i}` : `s${i}`))
    .map((t, i) => (i === 0 ? t : (i % 2 ? ' and ' : ' or ') + t))
    .join('')
  return `${header('Condition')}id: ${uuid(0)}\ndetection:\n${searches}  condition: ${condition}\nlevel: low\n`
}

const sizes = {
  list: [25000, 50000, 100000, 200000],
  documents: [1000, 2000, 4000, 8000],
  condition: [1000, 2000, 4000, 8000],
  quantified: [1000, 2000, 4000, 8000],
}
const commands = [
  { label: 'validate --no-compile', args: ['validate', '--no-compile'] },
  { label: 'compile spl', args: ['compile', '--target', 'spl', '--skip-unsupported'] },
  { label: 'compile kql', args: ['compile', '--target', 'kql', '--skip-unsupported'] },
  { label: 'compile eql', args: ['compile', '--target', 'eql', '--skip-unsupported'] },
  { label: 'compile osquery', args: ['compile', '--target', 'osquery', '--skip-unsupported'] },
]

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(
  `rulesmith scaling: ${runs} runs a cell; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
)
for (const shape of shapes) {
  const ns = sizes[shape].map((n) => Math.round(n * scale))
  const config = join(scratch, `${shape}.rulesmith.yml`)
  writeFileSync(config, `limits:\n  values-per-field: ${ns.at(-1) * 2}\n  documents: ${ns.at(-1) * 2}\n`)
  const files = ns.map((n) => {
    const f = join(scratch, `${shape}-${n}.yml`)
    writeFileSync(f, generate(shape, n))
    return f
  })
  console.log(`### ${shape}: N = ${ns.join(', ')}\n`)
  console.log(`| command | ${ns.map((n) => `N = ${n}`).join(' | ')} | growth a doubling |`)
  console.log(`|---|${ns.map(() => '---|').join('')}---|`)
  for (const { label, args } of commands) {
    const times = files.map((f) => {
      const ms = []
      for (let r = 0; r < runs; r++) {
        const t = performance.now()
        const p = spawnSync(process.execPath, [bin, ...args, '--config', config, f], {
          encoding: 'utf8',
          maxBuffer: 1 << 30,
        })
        ms.push(performance.now() - t)
        if (p.status !== 0 && p.status !== 1)
          throw new Error(`${label} ${f}: exit ${p.status}\n${p.stderr.slice(-600)}`)
      }
      return median(ms)
    })
    const growth = times.slice(2).map((t, i) => ((t - times[i + 1]) / (times[i + 1] - times[i])).toFixed(1))
    console.log(`| ${label} | ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(' | ')} | ${growth.join(', ')} |`)
  }
  console.log('')
}
rmSync(scratch, { recursive: true, force: true })
