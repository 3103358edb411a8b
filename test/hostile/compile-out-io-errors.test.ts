/**
 * Environment errors while writing `compile --out` and `bundle --out` (issue 12): a full disk,
 * no permission, a read-only file system, a file in the way. Each is one `path: error: message
 * [io/…]` diagnostic with exit 2 — never "internal error" — and nothing partial remains: the
 * previous output is byte for byte as it was, no temporary or `.old-*` folder is left beside it.
 * The disk faults are simulated by RULESMITH_FAULT=CODE@N (src/bundle/write.ts): the Nth file write
 * writes half its bytes, then fails with CODE.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { THREAD_AT } from '../../src/bundle/stream-write.js'
import { cli } from '../support/cli.js'
import { diagnosticLines, ruleText, scratch, snapshot, write } from './helpers.js'

const WHY: Record<string, string> = {
  ENOSPC: 'no space left on the device (ENOSPC); nothing was written and the folder is as it was [io/no-space]',
  EACCES: 'permission denied (EACCES); nothing was written and the folder is as it was [io/permission-denied]',
  EPERM: 'operation not permitted (EPERM); nothing was written and the folder is as it was [io/permission-denied]',
  EROFS: 'the file system is read-only (EROFS); nothing was written and the folder is as it was [io/read-only]',
  ENOTDIR:
    'a part of the path is a file, not a folder (ENOTDIR); nothing was written and the folder is as it was [io/not-a-folder]',
}
/** The one diagnostic line expected (a path-only diagnostic may be printed with or without `:1:1`). */
const expectLine = (lines: string[], path: string, code: string) => {
  expect(lines).toHaveLength(1)
  expect(lines[0]!.replace(`${path}:1:1:`, `${path}:`)).toBe(`${path}: error: cannot write the output: ${WHY[code]}`)
}

describe('compile --out on a failing disk', () => {
  const dir = scratch()
  const rules = join(dir, 'rules')
  for (let i = 0; i < 4; i++)
    write(join(rules, `r${i}.yml`), ruleText({ title: `'Rule ${i}'`, id: `5f0c3f9e-1111-4222-8333-94445555000${i}` }))
  const out = join(dir, 'out')
  const first = cli(['compile', '--target', 'spl', '--format', 'savedsearches', '--out', out, rules])
  const before = snapshot(dir)

  it('the first run wrote every file', () => {
    expect(first.code).toBe(0)
    expect(readdirSync(join(out, 'spl', 'savedsearches'))).toHaveLength(4)
  })

  for (const code of ['ENOSPC', 'EACCES', 'EPERM', 'EROFS']) {
    it(`${code} on the third file: exit 2, one io/ diagnostic, the previous output untouched`, () => {
      const r = cli(['compile', '--target', 'spl', '--out', out, rules], { env: { RULESMITH_FAULT: `${code}@3` } })
      expect(r.code).toBe(2)
      expect(r.stderr).not.toContain('internal error')
      expectLine(diagnosticLines(r.stderr), out, code)
      expect(snapshot(dir)).toEqual(before)
    })
  }

  it('ENOTDIR (a file where a folder should be): exit 2, one io/ diagnostic, nothing created', () => {
    const file = write(join(dir, 'file.txt'), 'x')
    const snap = snapshot(dir)
    const r = cli(['compile', '--target', 'spl', '--out', join(file, 'a', 'b'), rules])
    expect(r.code).toBe(2)
    expectLine(diagnosticLines(r.stderr), join(file, 'a', 'b'), 'ENOTDIR')
    expect(snapshot(dir)).toEqual(snap)
  })
})

describe('bundle --out on a failing disk', () => {
  const dir = scratch()
  const rules = join(dir, 'rules')
  write(join(rules, 'r.yml'), ruleText())
  const out = join(dir, 'release')
  const first = cli(['bundle', '--out', out, rules])
  const before = snapshot(dir)

  it('ENOSPC mid-bundle: exit 2, the previous bundle untouched, no .release.tmp-* or .release.old-* left', () => {
    expect(first.code).toBe(0)
    const r = cli(['bundle', '--out', out, rules], { env: { RULESMITH_FAULT: 'ENOSPC@5' } })
    expect(r.code).toBe(2)
    expectLine(diagnosticLines(r.stderr), out, 'ENOSPC')
    expect(snapshot(dir)).toEqual(before)
  })
})

describe('compile --out of more files than a thread takes over (THREAD_AT)', () => {
  // Past THREAD_AT queued files the writing moves to a worker thread (src/bundle/stream-write.ts):
  // its output, its failures and its clean-up must be those of the small path above.
  const dir = scratch()
  const rules = join(dir, 'rules')
  const count = THREAD_AT + 8
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(4, '0')
    write(join(rules, `r${n}.yml`), ruleText({ title: `'Rule ${n}'`, id: `5f0c3f9e-1111-4222-8333-94445555${n}` }))
  }
  const out = join(dir, 'out')
  const first = cli(['compile', '--target', 'spl', '--out', out, rules])
  const before = snapshot(dir)

  it('every file written, each as the manifest lists it', () => {
    expect(first.code).toBe(0)
    const manifest = JSON.parse(readFileSync(join(out, 'compile-manifest.json'), 'utf8'))
    expect(manifest.written).toHaveLength(count)
    for (const w of manifest.written)
      expect(
        createHash('sha256')
          .update(readFileSync(join(out, w.path)))
          .digest('hex'),
      ).toBe(w.sha256)
    expect(readdirSync(join(out, 'spl', 'default'))).toHaveLength(count)
  })

  it('ENOSPC on a file the thread writes: exit 2, one io/ diagnostic, the previous output untouched', () => {
    const r = cli(['compile', '--target', 'spl', '--out', out, rules], {
      env: { RULESMITH_FAULT: `ENOSPC@${THREAD_AT + 4}` },
    })
    expect(r.code).toBe(2)
    expectLine(diagnosticLines(r.stderr), out, 'ENOSPC')
    expect(snapshot(dir)).toEqual(before)
  })

  it('a broken rule after the thread started: exit 1, nothing written, the thread’s files removed', () => {
    const broken = write(join(rules, 'zz-broken.yml'), 'title: [unclosed\n')
    const r = cli(['compile', '--target', 'spl', '--out', out, rules])
    rmSync(broken)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`nothing written to ${out}`)
    expect(snapshot(dir)).toEqual(before)
  })
})

describe('the previous output cannot be removed once the new one is in place (RULESMITH_FAULT=CODE@remove)', () => {
  // The new output is complete and in DIR: saying "nothing was written" would be false. The run
  // succeeds with a warning naming the folder left beside DIR.
  const dir = scratch()
  const rules = join(dir, 'rules')
  write(join(rules, 'r.yml'), ruleText())
  const leftLine = (stderr: string, out: string) => {
    const lines = diagnosticLines(stderr).map((l) => l.replace(`${out}:1:1:`, `${out}:`))
    expect(lines).toHaveLength(1)
    const old = readdirSync(dir).filter((n) => n.startsWith(`.${basename(out)}.old-`))
    expect(old).toHaveLength(1)
    expect(lines[0]).toBe(
      `${out}: warning: the output is written; the previous output, renamed to '${join(dir, old[0]!)}', could not be removed (permission denied (EACCES)): delete that folder [io/old-output-left]`,
    )
  }

  it('compile --out: exit 0, the new output in DIR, one warning naming the folder left', () => {
    const out = join(dir, 'out')
    expect(cli(['compile', '--target', 'spl', '--out', out, rules]).code).toBe(0)
    const r = cli(['compile', '--target', 'kql', '--out', out, rules], { env: { RULESMITH_FAULT: 'EACCES@remove' } })
    expect(r.code).toBe(0)
    expect(readdirSync(out).sort()).toEqual(['compile-manifest.json', 'kql'])
    leftLine(r.stderr, out)
  })

  it('bundle --out: exit 0, the new bundle in DIR, one warning naming the folder left', () => {
    const out = join(dir, 'release')
    expect(cli(['bundle', '--out', out, rules]).code).toBe(0)
    const r = cli(['bundle', '--out', out, rules], { env: { RULESMITH_FAULT: 'EACCES@remove' } })
    expect(r.code).toBe(0)
    expect(readdirSync(out)).toContain('manifest.json')
    leftLine(r.stderr, out)
  })
})
