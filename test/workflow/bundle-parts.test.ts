/** The pieces of a release bundle on their own: tar, gzip, hashes, the lock, atomic writes, the progress bar. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { crc32, gzip } from '../../src/bundle/gzip.js'
import { canonicalJson, sha256 } from '../../src/bundle/hash.js'
import { changelogMarkdown, nextLock, parseLock, type Lock } from '../../src/bundle/lock.js'
import { tar, TarPathError } from '../../src/bundle/tar.js'
import { checkOutDir, OutDirError, writeAtomically } from '../../src/bundle/write.js'
import { progressBar, PROGRESS_MIN_RULES } from '../../src/cli/progress.js'

const bytes = (s: string) => Buffer.from(s, 'utf8')

describe('tar', () => {
  it('sorts entries, adds parent folders, and writes the same bytes for the same files in any order', () => {
    const files = [
      { path: 'b/x.txt', data: bytes('x') },
      { path: 'a.txt', data: bytes('a') },
    ]
    const one = tar(files),
      two = tar([...files].reverse())
    expect(one.equals(two)).toBe(true)
    expect(one.length % 10240).toBe(0)
    const names: string[] = []
    for (let off = 0; off < one.length; off += 512) {
      const h = one.subarray(off, off + 512)
      if (h.every((b) => b === 0)) break
      names.push(h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, ''))
      const size = parseInt(h.subarray(124, 135).toString('latin1'), 8)
      off += Math.ceil(size / 512) * 512
    }
    expect(names).toEqual(['a.txt', 'b/', 'b/x.txt'])
  })

  it('writes a valid header checksum, fixed mode, owner and time', () => {
    const h = tar([{ path: 'f', data: bytes('hello') }]).subarray(0, 512)
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
    expect(parseInt(h.subarray(148, 154).toString('latin1'), 8)).toBe(sum)
    expect(h.subarray(100, 108).toString('latin1')).toBe('0000644\0')
    expect(h.subarray(108, 124).toString('latin1')).toBe('0000000\u00000000000\0')
    expect(h.subarray(136, 148).toString('latin1')).toBe('00000000000\0')
    expect(h.subarray(257, 265).toString('latin1')).toBe('ustar\u000000')
  })

  it('splits a long path into prefix and name, and refuses one too long for ustar', () => {
    const folder = `${'d'.repeat(60)}/${'e'.repeat(60)}`
    const long = `${folder}/${'f'.repeat(90)}.txt`
    const h = tar([{ path: long, data: bytes('') }])
    // Two folder entries come first; the file's header is the third block.
    const file = h.subarray(1024, 1536)
    expect(file.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '')).toBe(folder)
    expect(file.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '')).toBe(`${'f'.repeat(90)}.txt`)
    expect(() => tar([{ path: 'x'.repeat(101), data: bytes('') }])).toThrow(TarPathError)
  })

  it('refuses paths that would escape the archive or appear twice', () => {
    expect(() => tar([{ path: '../evil', data: bytes('') }])).toThrow(TarPathError)
    expect(() => tar([{ path: '/abs', data: bytes('') }])).toThrow(TarPathError)
    expect(() =>
      tar([
        { path: 'a', data: bytes('1') },
        { path: 'a', data: bytes('2') },
      ]),
    ).toThrow(TarPathError)
  })
})

describe('gzip', () => {
  it('computes CRC-32 as gzip does', () => {
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926) // the standard check value
    expect(crc32(bytes(''))).toBe(0)
  })

  it('round-trips through zlib, with a header free of time and OS', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
        const z = gzip(data)
        expect(gunzipSync(z).equals(Buffer.from(data))).toBe(true)
        expect([...z.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff])
        expect(gzip(data).equals(z)).toBe(true)
      }),
      { numRuns: 50 },
    )
  })
})

describe('hashes', () => {
  it('canonical JSON ignores key order at every level but not values or array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }))
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }))
    expect(canonicalJson({ a: '1' })).not.toBe(canonicalJson({ a: 1 }))
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})

describe('lock and changelog', () => {
  const rule = (id: string, hash: string, title = `Rule ${id}`) => ({
    id,
    title,
    file: `rules/${id}.yml`,
    sha256: hash,
  })

  it('starts every rule at version 1 without a previous lock', () => {
    const { lock, changelog } = nextLock(undefined, [rule('b', 'h1'), rule('a', 'h2')])
    expect(Object.entries(lock.rules).map(([id, e]) => [id, e.version])).toEqual([
      ['a', 1],
      ['b', 1],
    ])
    expect(changelog.added.map((c) => c.id)).toEqual(['a', 'b'])
    expect(changelog).toMatchObject({ changed: [], removed: [], unchanged: 0 })
  })

  it('bumps a changed rule once, keeps unchanged ones, marks removed ones and continues a returning one', () => {
    const v1 = nextLock(undefined, [rule('a', 'h1'), rule('b', 'h2'), rule('c', 'h3')]).lock
    const two = nextLock(v1, [rule('a', 'h1-edited'), rule('b', 'h2')])
    expect(two.lock.rules['a']).toMatchObject({ version: 2, sha256: 'h1-edited' })
    expect(two.lock.rules['b']).toMatchObject({ version: 1 })
    expect(two.lock.rules['c']).toMatchObject({ version: 1, removed: true })
    expect(two.changelog.changed).toEqual([expect.objectContaining({ id: 'a', version: 2, previousVersion: 1 })])
    expect(two.changelog.removed.map((c) => c.id)).toEqual(['c'])
    expect(two.changelog.unchanged).toBe(1)
    // Building again from the new lock: nothing changes, the removal is not listed twice.
    const three = nextLock(two.lock, [rule('a', 'h1-edited'), rule('b', 'h2')])
    expect(three.changelog).toMatchObject({ added: [], changed: [], removed: [], unchanged: 2 })
    expect(three.lock).toEqual(two.lock)
    // A removed rule that comes back continues its numbering.
    const four = nextLock(three.lock, [rule('a', 'h1-edited'), rule('b', 'h2'), rule('c', 'h3')])
    expect(four.changelog.added).toEqual([expect.objectContaining({ id: 'c', version: 2, previousVersion: 1 })])
    expect(four.lock.rules['c']!.removed).toBeUndefined()
  })

  it('round-trips through its JSON and rejects a broken lock', () => {
    const { lock } = nextLock(undefined, [rule('a', 'h1')])
    expect(parseLock(JSON.stringify(lock), 'l.json').lock).toEqual(lock)
    for (const text of [
      '{',
      '[]',
      '{"lockFormat":2,"rules":{}}',
      '{"lockFormat":1,"rules":{"a":{"sha256":"x","version":0}}}',
    ]) {
      const r = parseLock(text, 'l.json')
      expect(r.lock).toBeUndefined()
      expect(r.diagnostics.map((d) => [d.code, d.file])).toEqual([['bundle/invalid-lock', 'l.json']])
    }
  })

  it('renders the changelog as Markdown with versions', () => {
    const prev: Lock = nextLock(undefined, [rule('a', 'h1', 'Alpha'), rule('c', 'h3', 'Gamma')]).lock
    const { changelog } = nextLock(prev, [rule('a', 'h1b', 'Alpha'), rule('b', 'h2', 'Beta')])
    const md = changelogMarkdown('pack', changelog, 'abc')
    expect(md).toContain('## Added (1)\n\n- Beta (`b`, v1) — rules/b.yml')
    expect(md).toContain('## Changed (1)\n\n- Alpha (`a`, v1 → v2) — rules/a.yml')
    expect(md).toContain('## Removed (1)\n\n- Gamma (`c`, last v1) — rules/c.yml')
    expect(md).toContain('Compared with the previous lock (sha256 abc).')
  })
})

describe('atomic writes', () => {
  const made: string[] = []
  const tmp = () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-write-'))
    made.push(dir)
    return dir
  }
  afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })))

  it('writes every file and replaces a previous bundle whole', () => {
    const dir = join(tmp(), 'out')
    writeAtomically(dir, [
      { path: 'manifest.json', data: bytes('{"tool":"rulesmith"}') },
      { path: 'a/old.txt', data: bytes('old') },
    ])
    writeAtomically(dir, [
      { path: 'manifest.json', data: bytes('{"tool":"rulesmith","n":2}') },
      { path: 'b/new.txt', data: bytes('new') },
    ])
    expect(readdirSync(dir).sort()).toEqual(['b', 'manifest.json'])
    expect(readFileSync(join(dir, 'b/new.txt'), 'utf8')).toBe('new')
    expect(readdirSync(join(dir, '..'))).toEqual(['out']) // no temporary folders left
  })

  it('leaves nothing behind when a write fails', () => {
    const parent = tmp()
    const dir = join(parent, 'deep', 'out')
    // A file and a folder of the same name cannot both be written.
    expect(() =>
      writeAtomically(dir, [
        { path: 'x', data: bytes('1') },
        { path: 'x/y', data: bytes('2') },
      ]),
    ).toThrow()
    expect(readdirSync(parent)).toEqual([])
  })

  it('refuses a non-empty folder that holds no bundle, accepts an empty one', () => {
    const dir = tmp()
    expect(() => checkOutDir(dir)).not.toThrow()
    writeFileSync(join(dir, 'notes.md'), 'mine')
    expect(() => checkOutDir(dir)).toThrow(OutDirError)
    mkdirSync(join(dir, 'sub'))
    writeFileSync(join(dir, 'sub', 'manifest.json'), '{"tool":"other"}')
    expect(() => checkOutDir(join(dir, 'sub'))).toThrow(OutDirError)
    expect(existsSync(join(dir, 'notes.md'))).toBe(true)
  })
})

describe('progress bar', () => {
  const fakeStream = (isTTY: boolean) => {
    const writes: string[] = []
    return { writes, stream: { isTTY, columns: 80, write: (s: string) => (writes.push(s), true) } as never }
  }
  const run = (opts: { isTTY: boolean; rules: number; quiet?: boolean; term?: string }) => {
    const { writes, stream } = fakeStream(opts.isTTY)
    const bar = progressBar({
      rules: opts.rules,
      label: 'test',
      quiet: opts.quiet ?? false,
      stream,
      env: { TERM: opts.term ?? 'xterm' },
    })
    for (let i = 1; i <= opts.rules; i++) bar.update(i)
    bar.done()
    return writes
  }

  it('draws on a terminal for many rules, ends full, and erases itself', () => {
    const writes = run({ isTTY: true, rules: PROGRESS_MIN_RULES })
    expect(writes.length).toBeGreaterThan(2)
    expect(writes.at(-2)).toContain(`] ${PROGRESS_MIN_RULES}/${PROGRESS_MIN_RULES}`)
    expect(writes.at(-2)).not.toContain('-]')
    expect(writes.at(-1)).toBe('\r\u001b[K')
    // Redrawn only when the bar moves, not once per rule.
    expect(writes.length).toBeLessThanOrEqual(42)
  })

  it('stays silent when not a terminal, with --quiet, on a dumb terminal, or for few rules', () => {
    expect(run({ isTTY: false, rules: 500 })).toEqual([])
    expect(run({ isTTY: true, rules: 500, quiet: true })).toEqual([])
    expect(run({ isTTY: true, rules: 500, term: 'dumb' })).toEqual([])
    expect(run({ isTTY: true, rules: PROGRESS_MIN_RULES - 1 })).toEqual([])
  })
})
