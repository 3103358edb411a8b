/**
 * The KQL gate's early start (src/verify/kql-gate-cache.ts, startKqlGateEarly): `validate` of a few
 * files starts the snapshot's child before the rules are compiled, unless the record says every
 * file's queries passed before. The child started early is the snapshot used last, before this
 * process's key is known: it must be asked nothing unless it is this key's. Stand-in parser
 * bundles (as in gate-snapshot.test.ts) keep the real `node --build-snapshot` short. Each case
 * runs in a process of its own, as the CLI does: here the suite may have loaded Microsoft's
 * parser already, and then no child is ever started.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { childScriptPath, metaPath, runBuildJob, snapshotKey } from '../../src/verify/kql-gate-snapshot.js'

/** A stand-in parser: `Nope` is an unknown name, unless `lenient`, which accepts everything. */
const bundle = (lenient: boolean) => `
globalThis.Bridge = { toArray: (list) => list }
globalThis.Kusto = { Language: {
  Parsing: { TokenParser: { ParseTokens: (q) => [{ Kind: 1, Text: q, Trivia: '', Diagnostics: null }] } },
  Syntax: { SyntaxKind: { StringLiteralToken: 1 } },
  Symbols: { TableSymbol: { $ctor7: function (name) { this.name = name } }, DatabaseSymbol: { ctor: function (name, tables) { this.tables = tables } } },
  GlobalState: { Default: { WithDatabase: (db) => ({ db }) } },
  KustoCode: { ParseAndAnalyze: (q) => {
    const at = ${lenient} ? -1 : q.indexOf('Nope')
    return { GetDiagnostics: () => at < 0 ? [] : [{ Severity: 'Error', Code: 'KS142', Message: 'no Nope', Start: at, End: at + 4 }] }
  } },
} }
`
const NOPE = { severity: 'Error', code: 'KS142', message: 'no Nope', start: 10, end: 14 }

/** Build and publish a stand-in snapshot for `key` in `dir`, as the gate's build does. */
function buildStandIn(dir: string, key: string, lenient: boolean): void {
  const work = mkdtempSync(join(dir, 'kql-gate-build-'))
  writeFileSync(join(work, 'bundle.js'), bundle(lenient))
  const input = { key, bundle: [join(work, 'bundle.js')], tables: { defender: [['T', '(x:string)']] }, warm: [] }
  writeFileSync(join(work, 'input.json'), JSON.stringify(input))
  writeFileSync(join(work, 'entry.cjs'), 'var exports = {};\n' + readFileSync(childScriptPath(), 'utf8'))
  const expected = lenient ? [] : [NOPE]
  const canaries = [{ variant: 'defender', query: 'T | where Nope', expected }]
  writeFileSync(join(work, 'job.json'), JSON.stringify({ dir, key, work, canaries }))
  expect(runBuildJob(work).why).toBe('built')
}

let root: string
let dir: string
let rule: string
const OTHER = 'f'.repeat(64)
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rulesmith-gate-early-'))
  dir = join(root, 'cache')
  mkdirSync(dir, { mode: 0o700 })
  // This process's key: a strict stand-in. Another key's, used last: a stand-in that accepts everything.
  buildStandIn(dir, snapshotKey()!, false)
  buildStandIn(dir, OTHER, true)
  utimesSync(metaPath(dir, snapshotKey()!), new Date(2020, 0, 1), new Date(2020, 0, 1))
  rule = join(root, 'rule.yml')
  writeFileSync(rule, 'title: Early\n')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/**
 * Run `body` in a fresh node with the built gate modules as `gate` (kql-gate-cache), `snapshot`
 * (kql-gate-snapshot) and `api`, the cache folder above and snapshots on; what it returns, as JSON.
 */
function inProcess(body: string): unknown {
  const url = (name: string) => JSON.stringify(pathToFileURL(join(dirname(childScriptPath()), name)).href)
  const script = join(root, `case-${Math.random().toString(36).slice(2)}.mjs`)
  writeFileSync(
    script,
    `const gate = await import(${url('kql-gate-cache.js')})\n` +
      `const snapshot = await import(${url('kql-gate-snapshot.js')})\n` +
      `const api = await import(${url('../api.js')})\n` +
      `const out = await (async () => {\n${body}\n})()\n` +
      `await gate.closeKqlGate()\nprocess.stdout.write(JSON.stringify(out))\n`,
  )
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    env: { ...process.env, RULESMITH_CACHE_DIR: dir, RULESMITH_KQL_SNAPSHOT: '1' },
  })
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout)
}

test('a file not seen before starts the child before any query; a child of another key is asked nothing', () => {
  const out = inProcess(`
    const keys = await gate.startKqlGateEarly([${JSON.stringify(rule)}], 'defender', '{}')
    // Started now, from the snapshot used last (the other key's, which accepts everything) …
    const early = snapshot.runningChildren()
    // … and let go when the first query comes: this key's child answers, the unknown name is reported.
    const found = await gate.checkKqlOnce('DeviceProcessEvents | Nope', 'defender')
    return { keys: keys.size, early, found: found.map((d) => d.message) }
  `)
  expect(out).toEqual({ keys: 1, early: 1, found: [expect.stringContaining('KS142 no Nope')] })
})

test('files whose queries all passed before start no child early; a folder or a missing file neither', () => {
  const out = inProcess(`
    const file = ${JSON.stringify(rule)}
    const counts = []
    const keys = await gate.startKqlGateEarly([file], 'defender', '{}')
    counts.push(snapshot.runningChildren())
    gate.rememberPassedFiles(keys.values())
    await gate.closeKqlGate()
    gate.resetGateCache()
    const again = await gate.startKqlGateEarly([file], 'defender', '{}')
    counts.push(snapshot.runningChildren(), [...again.values()].join() === [...keys.values()].join())
    // Other options, another key: not seen.
    await gate.startKqlGateEarly([file], 'defender', '{"variant":"x"}')
    counts.push(snapshot.runningChildren())
    await gate.closeKqlGate()
    for (const paths of [[${JSON.stringify(root)}], [${JSON.stringify(join(root, 'missing.yml'))}]]) {
      counts.push((await gate.startKqlGateEarly(paths, 'defender', '{}')) === undefined, snapshot.runningChildren())
    }
    return counts
  `)
  expect(out).toEqual([1, 0, true, 1, true, 0, true, 0])
})

test('validate records the files whose queries all passed, and only those', () => {
  const text = (value: string) =>
    `title: Early ${value}\nid: 0e1f7a3c-1111-4222-8333-9444555566${value === 'Nope' ? '01' : '02'}\nstatus: test\n` +
    `logsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n` +
    `    CommandLine|contains: '${value}'\n  condition: selection\nlevel: low\n`
  const passes = join(root, 'passes.yml')
  const fails = join(root, 'fails.yml')
  writeFileSync(passes, text('fine'))
  writeFileSync(fails, text('Nope'))
  const out = inProcess(`
    const found = (await api.validate([${JSON.stringify(passes)}, ${JSON.stringify(fails)}])).diagnostics
    const files = found.filter((d) => d.code === 'verify/kql-parser').map((d) => d.file)
    gate.resetGateCache()
    // As the CLI asks (default config: the defender variant, no options).
    await gate.startKqlGateEarly([${JSON.stringify(passes)}], 'defender', '{}')
    const passed = snapshot.runningChildren()
    await gate.closeKqlGate()
    await gate.startKqlGateEarly([${JSON.stringify(fails)}], 'defender', '{}')
    return { files, passed, failed: snapshot.runningChildren() }
  `)
  // The strict stand-in rejects the query holding \`Nope\`: reported on that file, which alone starts a child again.
  expect(out).toEqual({ files: [fails], passed: 0, failed: 1 })
})
