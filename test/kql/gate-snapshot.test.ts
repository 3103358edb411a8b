/**
 * The KQL gate's snapshot child (src/verify/kql-gate-snapshot.ts, kql-gate-child.cts).
 *
 * Determinism: the child script with Microsoft's real parser (started without a snapshot: the
 * same code a snapshot freezes, minus 2.5 s of building one) against the in-process parser, on
 * valid and invalid queries of every family. The snapshot machinery (build, canaries, publishing,
 * staleness, safety, fallback) with a two-function stand-in for the parser bundle, so a real
 * `node --build-snapshot` runs in a fraction of a second. bench/kql-gate-snapshot.mjs checks a
 * real snapshot against the in-process parser on a whole corpus.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest'
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import {
  blobPath,
  checkViaChild,
  childScriptPath,
  metaPath,
  publishBlob,
  runBuildJob,
  snapshotInput,
  snapshotsEnabled,
  startGateChild,
  usableBlob,
  verifyBlob,
} from '../../src/verify/kql-gate-snapshot.js'
import { checkKql, REDUCE_FROM, toDiagnostics } from '../../src/verify/kql-parser.js'

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rulesmith-gate-snapshot-'))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A fresh private folder, as the cache folder is. */
const folder = (name: string): string => {
  const dir = join(root, name)
  mkdirSync(dir, { mode: 0o700 })
  return dir
}

describe('the gate child with Microsoft’s parser answers as the in-process parser does', () => {
  const queries: [string, string][] = [
    ['defender', 'DeviceProcessEvents\n| where FileName =~ "cmd.exe" and ProcessCommandLine contains "/c"'],
    [
      'defender',
      'DeviceProcessEvents\n| where FolderPath endswith @"\\sc.exe" or ProcessCommandLine matches regex "a+b"',
    ],
    ['defender', 'DeviceProcessEvents\n| where NoSuchColumn == "x"'],
    ['defender', 'DeviceProcessEvents | where FileName == "\\q"'],
    ['defender', 'DeviceProcessEvents | where (FileName == "x"'],
    ['defender', 'SecurityEvent | where EventID == 1'],
    ['sentinel', 'SecurityEvent\n| where EventID == 4688\n| where NewProcessName endswith @"\\sc.exe"'],
    ['sentinel', 'SecurityEvent | where NewProcessName has_any ("a", "b") | project Nope'],
    ['asim', '_Im_ProcessCreate\n| where TargetProcessName endswith "\\\\cmd.exe"'],
    ['defender', 'DeviceProcessEvents | where ProcessCommandLine contains "é — ✓"'],
  ]

  it('same diagnostics for valid and invalid queries; unknown variants left to the in-process path', async () => {
    const input = snapshotInput()
    expect(input, 'dist/ is built by the test setup').toBeDefined()
    const dir = folder('real')
    const file = join(dir, 'input.json')
    // No warm-up: the child answers at once, the answers do not depend on it.
    writeFileSync(file, JSON.stringify({ ...input, warm: [] }))
    const child = startGateChild(dir, input!.key, [childScriptPath(), file])
    try {
      let failing = 0
      for (const [variant, query] of queries) {
        const found = await child.check(query, variant)
        expect(found, query).toBeDefined()
        const fromChild = toDiagnostics(query, found!)
        expect(fromChild, query).toEqual(await checkKql(query, variant))
        if (fromChild.length > 0) failing++
      }
      // The proof can fail: the broken queries are rejected by the child too.
      expect(failing).toBe(5)
      expect(await child.check('DeviceProcessEvents', 'no-such-family')).toBeUndefined()

      // Queries of REDUCE_FROM characters or more: lexed by the child, reduced here, the reduced
      // query bound by the child, and the whole one only when the reduced one has an error.
      // Groups of 60, as src/passes/balance.ts joins long lists (one flat chain is too deep for the binder).
      const group = (g: number) =>
        '(' +
        Array.from({ length: 60 }, (_, i) => `ProcessCommandLine contains "value${g * 60 + i}x"`).join(' or ') +
        ')'
      const long = `DeviceProcessEvents\n| where ${Array.from({ length: 10 }, (_, g) => group(g)).join(' or ')}`
      const broken = long.replace('ProcessCommandLine contains "value300x"', 'NoSuchColumn contains "value300x"')
      expect(long.length).toBeGreaterThanOrEqual(REDUCE_FROM)
      const bound: number[] = []
      const counting = {
        lex: (q: string) => child.lex(q),
        check: (q: string, v: string) => {
          bound.push(q.length)
          return child.check(q, v)
        },
      }
      expect(toDiagnostics(long, (await checkViaChild(counting, long, 'defender'))!)).toEqual([])
      expect(bound.length === 1 && bound[0]! < long.length / 10, JSON.stringify(bound)).toBe(true)
      const fromChild = toDiagnostics(broken, (await checkViaChild(counting, broken, 'defender'))!)
      expect(fromChild).toEqual(await checkKql(broken, 'defender'))
      expect(fromChild.map((d) => d.message).join()).toContain('NoSuchColumn')
      expect(bound.at(-1)).toBe(broken.length)
      // A list as long as SigmaHQ's rules have (hundreds of characters) is reduced too: one bind
      // of a query a fraction as long, and the whole one only when that has an error.
      const ext = (i: number) => `FolderPath endswith ".e${i}"`
      const medium = `DeviceProcessEvents\n| where ${Array.from({ length: 20 }, (_, i) => ext(i)).join(' or ')}`
      expect(medium.length).toBeLessThan(1_000)
      bound.length = 0
      expect(toDiagnostics(medium, (await checkViaChild(counting, medium, 'defender'))!)).toEqual([])
      expect(bound.length === 1 && bound[0]! < medium.length / 3, JSON.stringify(bound)).toBe(true)
      const wrong = medium.replace(ext(7), 'FolderPath endswith 7')
      const wrongFromChild = toDiagnostics(wrong, (await checkViaChild(counting, wrong, 'defender'))!)
      expect(wrongFromChild).toEqual(await checkKql(wrong, 'defender', { reduceFrom: Infinity }))
      expect(wrongFromChild.length).toBeGreaterThan(0)
      expect(bound.at(-1)).toBe(wrong.length)
    } finally {
      await child.close()
    }
  })
})

/** A stand-in for the Bridge.NET bundle: the entry points the child calls, and `Nope` is an unknown name. */
const FAKE_BUNDLE = `
globalThis.Bridge = { toArray: (list) => list }
globalThis.Kusto = { Language: {
  Parsing: { TokenParser: { ParseTokens: (q) => [{ Kind: 1, Text: q, Trivia: '', Diagnostics: null }] } },
  Syntax: { SyntaxKind: { StringLiteralToken: 1 } },
  Symbols: { TableSymbol: { $ctor7: function (name) { this.name = name } }, DatabaseSymbol: { ctor: function (name, tables) { this.tables = tables } } },
  GlobalState: { Default: { WithDatabase: (db) => ({ db }) } },
  KustoCode: { ParseAndAnalyze: (q) => {
    if (q === 'exit') process.exit(3)
    const at = q.indexOf('Nope')
    return { GetDiagnostics: () => at < 0 ? [] : [{ Severity: 'Error', Code: 'KS142', Message: 'no Nope', Start: at, End: at + 4 }] }
  } },
} }
`
const KEY = 'a'.repeat(64)
const NOPE = { severity: 'Error', code: 'KS142', message: 'no Nope', start: 10, end: 14 }

/** A build job for the stand-in, as the gate prepares one; `canary` is what the in-process parser would say. */
function fakeJob(dir: string, canary: object[] = [NOPE]): string {
  const work = mkdtempSync(join(dir, 'kql-gate-build-'))
  const bundle = join(work, 'fake-bundle.js')
  writeFileSync(bundle, FAKE_BUNDLE)
  const input = { key: KEY, bundle: [bundle], tables: { defender: [['T', '(x:string)']] }, warm: [['defender', 'T']] }
  writeFileSync(join(work, 'input.json'), JSON.stringify(input))
  writeFileSync(join(work, 'entry.cjs'), 'var exports = {};\n' + readFileSync(childScriptPath(), 'utf8'))
  const canaries = [
    { variant: 'defender', query: 'T | where Nope', expected: canary },
    { variant: 'defender', query: 'T', expected: [] },
  ]
  writeFileSync(join(work, 'job.json'), JSON.stringify({ dir, key: KEY, work, canaries }))
  return work
}

describe('the snapshot: build, verify, publish, use', () => {
  let built: string
  let blobBytes: Buffer
  beforeAll(() => {
    built = folder('built')
    writeFileSync(join(built, 'kql-gate-snapshot.lock'), 'pid\n')
    // Three other keys' snapshots, used 3, 2 and 1 days ago: the two used last are kept.
    for (const [other, daysAgo] of [
      ['b', 3],
      ['c', 2],
      ['e', 1],
    ] as const) {
      writeFileSync(join(built, `kql-gate-${other.repeat(64)}.snapshot`), 'another key')
      writeFileSync(join(built, `kql-gate-${other.repeat(64)}.json`), '{}')
      const used = new Date(Date.now() - daysAgo * 86_400_000)
      utimesSync(join(built, `kql-gate-${other.repeat(64)}.json`), used, used)
    }
    const result = runBuildJob(fakeJob(built))
    expect(result.why).toBe('built')
    blobBytes = readFileSync(blobPath(built, KEY))
  })

  it('publishes a private blob and its .json, removes the job, the lock and the least recently used other snapshot', () => {
    expect(usableBlob(built, KEY)).toBe(blobPath(built, KEY))
    for (const f of [blobPath(built, KEY), metaPath(built, KEY)]) expect(statSync(f).mode & 0o777).toBe(0o600)
    const meta: unknown = JSON.parse(readFileSync(metaPath(built, KEY), 'utf8'))
    expect(meta).toMatchObject({ key: KEY, size: blobBytes.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(existsSync(join(built, 'kql-gate-snapshot.lock'))).toBe(false)
    expect(existsSync(join(built, `kql-gate-${'b'.repeat(64)}.snapshot`))).toBe(false)
    expect(existsSync(join(built, `kql-gate-${'b'.repeat(64)}.json`))).toBe(false)
    for (const kept of ['c', 'e']) expect(existsSync(join(built, `kql-gate-${kept.repeat(64)}.snapshot`))).toBe(true)
    expect(readdirSync(built).filter((f) => f.startsWith('kql-gate-build-'))).toEqual([])
  })

  it('a child started from it answers, and says nothing else', async () => {
    const child = startGateChild(built, KEY, ['--snapshot-blob', blobPath(built, KEY)])
    expect(await child.check('T | where Nope', 'defender')).toEqual([NOPE])
    expect(await child.check('T', 'defender')).toEqual([])
    expect(await child.check('T', 'sentinel')).toBeUndefined()
    await child.close()
  })

  it('a blob is published only when it answers the canaries as the in-process parser did', () => {
    const work = folder('verify')
    const job = (expected: object[]) => ({
      dir: built,
      key: KEY,
      work,
      canaries: [{ variant: 'defender', query: 'T | where Nope', expected: expected.map((e) => ({ ...NOPE, ...e })) }],
    })
    expect(verifyBlob(blobPath(built, KEY), job([{}]))).toBeUndefined()
    expect(verifyBlob(blobPath(built, KEY), job([]))).toContain('canary 1')
    expect(verifyBlob(blobPath(built, KEY), job([{ start: 11 }]))).toContain('canary 1')
    expect(verifyBlob(blobPath(built, KEY), { ...job([{}]), key: 'd'.repeat(64) })).toContain('key')
  })

  /** A published copy of the built blob in a fresh folder. */
  function published(name: string, bytes: Buffer = blobBytes, key = KEY): string {
    const dir = folder(name)
    const tmp = join(dir, 'tmp')
    writeFileSync(tmp, bytes)
    publishBlob(tmp, dir, key)
    return dir
  }

  it('a changed, replaced or unsafe blob is not used', () => {
    expect(usableBlob(published('copy'), KEY)).toBeDefined()
    const grown = published('grown')
    appendFileSync(blobPath(grown, KEY), 'x')
    const touched = published('touched')
    utimesSync(blobPath(touched, KEY), new Date(2020, 0, 1), new Date(2020, 0, 1))
    const writable = published('writable')
    chmodSync(blobPath(writable, KEY), 0o664)
    const linked = published('linked')
    unlinkSync(blobPath(linked, KEY))
    symlinkSync(blobPath(published('target'), KEY), blobPath(linked, KEY))
    const badMeta = published('bad-meta')
    writeFileSync(metaPath(badMeta, KEY), '{"format":')
    for (const dir of [grown, touched, writable, linked, badMeta]) {
      expect(usableBlob(dir, KEY), dir).toBeUndefined()
      // Removed, so the next run builds a good one.
      expect(existsSync(metaPath(dir, KEY)), dir).toBe(false)
    }
    const openFolder = published('open-folder')
    chmodSync(openFolder, 0o777)
    expect(usableBlob(openFolder, KEY)).toBeUndefined()
    chmodSync(openFolder, 0o700)
    expect(usableBlob(openFolder, KEY)).toBeDefined()
  })

  it('a blob node cannot start from, or one built for another key: the query goes in-process, the blob is removed', async () => {
    const garbage = published('garbage', Buffer.alloc(4096, 7))
    const wrongKey = published('wrong-key', blobBytes, 'c'.repeat(64))
    for (const [dir, key] of [
      [garbage, KEY],
      [wrongKey, 'c'.repeat(64)],
    ] as const) {
      const child = startGateChild(dir, key, ['--snapshot-blob', blobPath(dir, key)])
      expect(await child.check('T | where Nope', 'defender'), dir).toBeUndefined()
      expect(existsSync(blobPath(dir, key)), dir).toBe(false)
      await child.close()
    }
  })

  it('a child that dies keeps its process running until the query is answered (from in-process)', () => {
    // In its own process: here vitest would keep the event loop alive whatever the gate does. A
    // gate that let go of the dying child would end the process with the answer never given (a
    // CLI then exits 0 having printed nothing).
    const dir = published('drain', Buffer.alloc(4096, 7))
    const script = join(dir, 'drain.mjs')
    const module = pathToFileURL(join(dirname(childScriptPath()), 'kql-gate-snapshot.js')).href
    writeFileSync(
      script,
      `const m = await import(${JSON.stringify(module)})\n` +
        `const c = m.startGateChild(process.argv[2], process.argv[3], ['--snapshot-blob', m.blobPath(process.argv[2], process.argv[3])])\n` +
        `console.log((await c.check('T | where Nope', 'defender')) === undefined ? 'in-process' : 'child')\n`,
    )
    const r = spawnSync(process.execPath, [script, dir, KEY], { encoding: 'utf8' })
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: 'in-process' })
    expect(existsSync(blobPath(dir, KEY))).toBe(false)
  })

  it('a child that dies during a query: that query and the next go in-process', async () => {
    const dir = folder('dies')
    const work = fakeJob(dir)
    const child = startGateChild(dir, KEY, [childScriptPath(), join(work, 'input.json')])
    expect(await child.check('T | where Nope', 'defender')).toEqual([NOPE])
    expect(await child.check('exit', 'defender')).toBeUndefined()
    expect(await child.check('T', 'defender')).toBeUndefined()
    await child.close()
  })

  it('RULESMITH_KQL_SNAPSHOT=0 turns it off', () => {
    expect(snapshotsEnabled({ RULESMITH_KQL_SNAPSHOT: '0' })).toBe(false)
    expect(snapshotsEnabled({ RULESMITH_KQL_SNAPSHOT: 'off' })).toBe(false)
    expect(snapshotsEnabled({})).toBe(process.platform !== 'win32')
  })
})
