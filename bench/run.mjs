#!/usr/bin/env node
// `npm run bench`: the speed table of issue 16 (whole CLI processes: median, min, max over N runs,
// peak RSS) and a per-phase breakdown measured in one process, on the project's rules/ or on a
// corpus given by path.
//
//   npm run build && npm run bench                          # rules/, 5 runs a row
//   npm run bench -- /path/to/sigma/rules                   # another corpus
//   npm run bench -- --runs 7 --bin /tmp/old/bin/rulesmith.js CORPUS   # an older build (before/after)
//   npm run bench -- --rows phases CORPUS                   # only some rows (names below, comma-separated)
//
// Every row runs with its own KQL gate cache folder (RULESMITH_CACHE_DIR): "cold" rows empty the
// record of accepted queries before each run (a rule's first check) but keep the gate's snapshot
// (src/verify/kql-gate-snapshot.ts; built once before the row, as after any earlier run), "warm"
// rows fill the record once first (the same rules again), and `one-rule-first` empties the whole
// folder each time (the very first run after an install: in-process, and the snapshot's build
// started in the background, waited for between runs and not timed). `--in-process` turns the
// snapshot off (RULESMITH_KQL_SNAPSHOT=0) for every row.
// Timings on a shared machine are noisy: the load average is printed next to every row.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const argv = process.argv.slice(2)
const option = (name, fallback) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv.splice(i, 2)[1] : fallback
}
const runs = Number(option('--runs', '5'))
const bin = resolve(option('--bin', join(here, '..', 'bin', 'rulesmith.js')))
const only = option('--rows', undefined)?.split(',')
const listSize = Number(option('--list', '100000'))
const inProcess = argv.includes('--in-process') ? argv.splice(argv.indexOf('--in-process'), 1).length > 0 : false
const corpus = resolve(argv[0] ?? join(here, '..', 'rules'))
const want = (name) => !only || only.includes(name)
const time = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
const scratch = mkdtempSync(join(tmpdir(), 'rulesmith-bench-'))
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

/** Rule files under `dir`, sorted (tests files and dot folders left out). */
function ruleFiles(dir) {
  if (statSync(dir).isFile()) return [dir]
  const out = []
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...ruleFiles(p))
    else if (/\.ya?ml$/.test(name) && !/\.tests\.ya?ml$/.test(name)) out.push(p)
  }
  return out
}
const files = ruleFiles(corpus)
const oneRule = resolve(option('--rule', files.find((f) => /process_creation/.test(f)) ?? files[0]))

/** One whole process: wall time (ms), peak RSS (MB), exit code. */
function runOnce(args, env) {
  const cmd = time ? [time, '-f', '%M %U %S', process.execPath, bin, ...args] : [process.execPath, bin, ...args]
  const t = performance.now()
  const r = spawnSync(cmd[0], cmd.slice(1), { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 30 })
  const ms = performance.now() - t
  // Peak RSS and CPU seconds (user + system) of the process, from /usr/bin/time's last line.
  const [rssKb, user, sys] = time ? r.stderr.trim().split('\n').pop().split(' ').map(Number) : [NaN, NaN, NaN]
  return { ms, rss: rssKb / 1024, cpu: (user + sys) * 1000, code: r.status, stderr: r.stderr }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
/** Wait (up to 5 minutes) for a background build of the gate's snapshot in `dir` to finish. */
function waitForSnapshotBuild(dir) {
  const lock = join(dir, 'kql-gate-snapshot.lock')
  for (const t = performance.now(); existsSync(lock) && performance.now() - t < 300_000;) sleep(100)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rows = []
function row(name, label, args, { cache = 'cold', before, n = runs } = {}) {
  if (!want(name)) return
  const cacheDir = join(scratch, `cache-${name}`)
  const env = { RULESMITH_CACHE_DIR: cacheDir, ...(inProcess ? { RULESMITH_KQL_SNAPSHOT: '0' } : {}) }
  rmSync(cacheDir, { recursive: true, force: true })
  if (cache === 'warm') runOnce(args, env)
  if (cache === 'cold') {
    // One earlier run of any rule leaves the gate's snapshot behind (built in the background).
    runOnce(['validate', oneRule], env)
    waitForSnapshotBuild(cacheDir)
  }
  const results = []
  for (let i = 0; i < n; i++) {
    if (cache === 'cold') rmSync(join(cacheDir, 'kql-gate-passed'), { force: true })
    if (cache === 'first') rmSync(cacheDir, { recursive: true, force: true })
    before?.()
    results.push(runOnce(args, env))
    if (cache === 'first') waitForSnapshotBuild(cacheDir)
  }
  const ms = results.map((r) => r.ms)
  const r = {
    label,
    median: median(ms),
    min: Math.min(...ms),
    max: Math.max(...ms),
    rss: Math.max(...results.map((x) => x.rss)),
    cpu: median(results.map((x) => x.cpu)),
    exit: [...new Set(results.map((x) => x.code))].join('/'),
    load: load(),
    runs: n,
  }
  rows.push(r)
  const s = (x) => (x / 1000).toFixed(2)
  console.log(
    `| ${label} | ${s(r.median)} s | ${s(r.min)}–${s(r.max)} s | ${Number.isNaN(r.cpu) ? '?' : s(r.cpu) + ' s'} | ${Number.isNaN(r.rss) ? '?' : r.rss.toFixed(0) + ' MB'} | ${r.exit} | ${r.load} |`,
  )
  if (results.some((x) => x.code !== 0 && x.code !== 1)) console.log('  stderr: ' + results[0].stderr.slice(-400))
}

console.log(`rulesmith bench: ${files.length} rule files under ${corpus}; ${runs} runs a row; CLI ${bin}`)
console.log(`Node ${process.version}; load average before: ${load()}\n`)
if (inProcess) console.log('KQL gate snapshot off (--in-process): RULESMITH_KQL_SNAPSHOT=0\n')
// CPU (user + system seconds, median) is the figure that moves least when others load the machine.
console.log('| run | median | min–max | CPU | peak RSS | exit | load average (1, 5, 15 min) |')
console.log('|---|---|---|---|---|---|---|')
const out = join(scratch, 'out')
const clearOut = () => rmSync(out, { recursive: true, force: true })
row(
  'all',
  `compile --target all --skip-unsupported --out DIR (${files.length} files)`,
  ['compile', '--target', 'all', '--skip-unsupported', '--out', out, corpus],
  { before: clearOut },
)
// The everyday case: DIR holds the previous run's output (flushed to disk, as one from a while
// ago is), which the run replaces and removes.
row(
  'all-over',
  'the same, DIR holding the previous output',
  ['compile', '--target', 'all', '--skip-unsupported', '--out', out, corpus],
  {
    before: () =>
      existsSync(out)
        ? spawnSync('sync')
        : runOnce(['compile', '--target', 'all', '--skip-unsupported', '--out', out, corpus], {}),
  },
)
for (const t of ['spl', 'kql', 'eql', 'osquery'])
  row(
    `one-${t}`,
    `the same to one target: ${t}`,
    ['compile', '--target', t, '--skip-unsupported', '--out', out, corpus],
    {
      before: clearOut,
    },
  )
row('one-rule', 'validate of one rule (default targets; KQL gate), cold record', ['validate', oneRule])
row('one-rule-first', 'validate of one rule, empty cache folder (first run after install)', ['validate', oneRule], {
  cache: 'first',
})
row('one-rule-warm', 'validate of one rule, warm cache', ['validate', oneRule], { cache: 'warm' })
row('no-compile', 'validate --no-compile of one rule', ['validate', '--no-compile', oneRule])
row('pre-commit', 'one changed file as the pre-commit hook runs it (validate --all-from CORPUS FILE), cold record', [
  'validate',
  '--all-from',
  corpus,
  oneRule,
])
row('corpus', 'validate of the whole corpus, cold record', ['validate', corpus], { n: Math.min(runs, 3) })
row('corpus-warm', 'validate of the whole corpus, warm cache', ['validate', corpus], { cache: 'warm' })
if (want('list') || want('list-warm')) {
  // One rule with a list of `listSize` values (over the default limits.values-per-field, raised here).
  const dir = join(scratch, 'list')
  mkdirSync(dir, { recursive: true })
  const values = Array.from({ length: listSize }, (_, i) => `      - 'value${i}x'\n`).join('')
  writeFileSync(
    join(dir, 'big_list.yml'),
    `title: Big list\nid: 0e1f7a3c-1111-4222-8333-944455556666\nstatus: test\ndescription: many values\nauthor: bench\ndate: 2026-12-03\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    CommandLine|contains:\n${values}  condition: selection\nlevel: low\n`,
  )
  writeFileSync(join(dir, '.rulesmith.yml'), `limits:\n  values-per-field: ${listSize * 2}\n`)
  const args = ['validate', '--config', join(dir, '.rulesmith.yml'), join(dir, 'big_list.yml')]
  row('list', `validate of one rule with a ${listSize.toLocaleString('en')}-value list, cold`, args, {
    n: Math.min(runs, 3),
  })
  row('list-warm', `the same, warm cache`, args, { cache: 'warm', n: Math.min(runs, 3) })
}

if (want('phases')) await phases()
rmSync(scratch, { recursive: true, force: true })

/**
 * The pipeline's phases one after another in this process, each over every file, median of the
 * runs: read, YAML, schema, checks, AST, compile per target, render, write, KQL gate.
 */
async function phases() {
  const dist = join(dirname(bin), '..', 'dist', 'src')
  const imp = (p) => import(join(dist, p))
  const t0 = performance.now()
  const { readInputFile } = await imp('input-file.js')
  const { parseYaml } = await imp('rule/yaml.js')
  const { default: validateRule } = await imp('rule/schema-validate.generated.js')
  const { checkMetadata } = await imp('rule/checks.js')
  const { buildDetection } = await imp('rule/build.js')
  const { loadRuleText } = await imp('rule/load.js')
  const { loadBackend } = await imp('backends/index.js')
  const { renderFormat, ruleVars } = await imp('formats/render.js')
  const { writeAtomically } = await imp('bundle/write.js')
  const { kqlGate } = await imp('api.js')
  const importMs = performance.now() - t0
  const timings = new Map()
  const add = (k, ms) => timings.set(k, [...(timings.get(k) ?? []), ms])
  const n = Math.max(1, Math.min(runs, 5))
  let queries = 0
  let counts = ''
  for (let run = 0; run < n; run++) {
    let t = performance.now()
    const texts = files.map((f) => [f, readInputFile(f, 'rule')]).filter(([, r]) => 'text' in r)
    add('read', performance.now() - t)
    t = performance.now()
    const docs = texts.flatMap(([f, r]) =>
      parseYaml(r.text, { maxDocuments: 1000, maxNodes: 100000 }).documents.map((doc) => [f, doc]),
    )
    add('YAML (with positions)', performance.now() - t)
    const isRule = (v) => v && typeof v === 'object' && !Array.isArray(v) && 'detection' in v && !('correlation' in v)
    const ruleDocs = docs.filter(([, d]) => isRule(d.value))
    t = performance.now()
    const valid = ruleDocs.filter(([, d]) => validateRule(d.value))
    add('schema', performance.now() - t)
    t = performance.now()
    for (const [f, d] of valid) checkMetadata(d.value, d, f)
    add('checks', performance.now() - t)
    t = performance.now()
    for (const [f, d] of valid) buildDetection(d.value.detection, { doc: d, file: f, diagnostics: [] })
    add('AST', performance.now() - t)
    // The rules as the CLI loads them (the phases above, joined), for the backends.
    const rules = texts.flatMap(([f, r]) => loadRuleText(r.text, f).rules)
    const written = []
    const gate = []
    for (const target of ['spl', 'kql', 'eql', 'osquery']) {
      const backend = await loadBackend(target)
      t = performance.now()
      const compiled = rules.map((rule) => {
        try {
          return [rule, backend.compile(rule, {})]
        } catch {
          return [rule, {}]
        }
      })
      add(`compile ${target}`, performance.now() - t)
      t = performance.now()
      for (const [rule, c] of compiled) {
        if (c.query === undefined) continue
        const vars = { rule: ruleVars(rule), query: c.query, target, context: c.context ?? {} }
        try {
          written.push({
            path: `${target}/${written.length}.txt`,
            data: Buffer.from(await renderFormat(target, { name: 'default' }, vars)),
          })
        } catch {
          // refused by the format (unsafe text): not written, as in the CLI
        }
        if (target === 'kql') gate.push([rule, c.query])
      }
      add(`render ${target} (default format)`, performance.now() - t)
    }
    t = performance.now()
    writeAtomically(join(scratch, 'phase-out'), written, { manifest: 'x.json', what: 'bench', command: 'bench' })
    add('write', performance.now() - t)
    rmSync(join(scratch, 'phase-out'), { recursive: true, force: true })
    if (run === 0) {
      // The gate once (it is the slow part): first call (loads Microsoft's parser), then every query.
      process.env.RULESMITH_CACHE_DIR = join(scratch, 'phase-cache')
      t = performance.now()
      await kqlGate(rules[0], 'DeviceProcessEvents | take 1')
      add('KQL gate: load the parser', performance.now() - t)
      t = performance.now()
      for (const [rule, q] of gate) await kqlGate(rule, q)
      add(`KQL gate: ${gate.length} queries, cold cache`, performance.now() - t)
      t = performance.now()
      for (const [rule, q] of gate) await kqlGate(rule, q)
      add(`KQL gate: ${gate.length} queries, warm cache`, performance.now() - t)
      queries = gate.length
      counts = `${texts.length} files, ${docs.length} documents, ${rules.length} rules, ${written.length} rendered queries, ${queries} KQL`
    }
  }
  console.log(
    `\nPhases in one process (${counts}; median of ${n}; imports ${importMs.toFixed(0)} ms; load ${load()}):\n`,
  )
  console.log('| phase | median ms |')
  console.log('|---|---|')
  for (const [k, v] of timings) console.log(`| ${k} | ${median(v).toFixed(0)} |`)
}
