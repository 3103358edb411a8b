/**
 * `compile --out` replaces its folder whole (issue 12: files of an earlier run stayed in --out
 * while the manifest no longer listed them, so a sync deployed deleted rules). A folder that is
 * not empty and was not written by `compile --out` is refused and left as it was.
 */
import { readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkOutDir, COMPILE_OUTPUT, OutDirError, removeTree } from '../../src/bundle/write.js'
import { cli } from '../support/cli.js'
import { ruleText, scratch, snapshot, write } from './helpers.js'

describe('compile --out owns its folder', () => {
  const dir = scratch()
  const rules = join(dir, 'rules')
  write(join(rules, 'kept.yml'), ruleText({ title: "'Kept'" }))
  const removed = write(
    join(rules, 'removed.yml'),
    ruleText({ title: "'Removed'", id: '5f0c3f9e-1111-4222-8333-944455550002' }),
  )
  const out = join(dir, 'out')

  it('a rule deleted since the last run leaves no file behind, and the manifest lists what is there', () => {
    expect(cli(['compile', '--target', 'spl', '--out', out, rules]).code).toBe(0)
    expect(readdirSync(join(out, 'spl', 'default')).sort()).toEqual(['kept.spl', 'removed.spl'])
    rmSync(removed)
    expect(cli(['compile', '--target', 'kql', '--out', out, rules]).code).toBe(0)
    // The spl files of the first run are gone too: the folder holds exactly this run's output.
    expect(readdirSync(out).sort()).toEqual(['compile-manifest.json', 'kql'])
    expect(readdirSync(join(out, 'kql', 'default'))).toEqual(['kept.kql'])
    const manifest = JSON.parse(readFileSync(join(out, 'compile-manifest.json'), 'utf8'))
    expect(manifest.written.map((w: { path: string }) => w.path)).toEqual(['kql/default/kept.kql'])
    expect(readdirSync(dir).sort()).toEqual(['out', 'rules']) // no temporary or .old-* folder
  })

  it('a non-empty folder it did not write is refused (exit 2) and untouched', () => {
    const mine = join(dir, 'mine')
    write(join(mine, 'notes.md'), 'my notes')
    const before = snapshot(dir)
    const r = cli(['compile', '--target', 'spl', '--out', mine, rules])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `rulesmith compile: '${mine}' is not empty and holds no rulesmith compile output (no compile-manifest.json); give an empty or new folder: 'compile --out' replaces the whole folder\nRun 'rulesmith compile --help' for usage.\n`,
    )
    expect(snapshot(dir)).toEqual(before)
  })

  it('a bundle folder is not a compile output either', () => {
    const release = join(dir, 'release')
    expect(cli(['bundle', '--out', release, rules]).code).toBe(0)
    const before = snapshot(dir)
    expect(cli(['compile', '--target', 'spl', '--out', release, rules]).code).toBe(2)
    expect(snapshot(dir)).toEqual(before)
  })
})

describe("checkOutDir reads a manifest's tool (its first line without parsing a large one)", () => {
  const dir = scratch()
  const outWith = (name: string, manifest: string) => {
    const d = join(dir, name)
    write(join(d, 'compile-manifest.json'), manifest)
    return d
  }
  const owned = (d: string) => {
    try {
      checkOutDir(d, COMPILE_OUTPUT)
      return true
    } catch (e) {
      if (e instanceof OutDirError) return false
      throw e
    }
  }

  it('ours as written, reformatted or with keys reordered; not when tool is another or the JSON is broken', () => {
    expect(owned(outWith('written', JSON.stringify({ tool: 'rulesmith', written: [] }, null, 2) + '\n'))).toBe(true)
    expect(owned(outWith('minified', '{"written":[],"tool":"rulesmith"}'))).toBe(true)
    expect(owned(outWith('other', JSON.stringify({ tool: 'rulesmithx', written: [] }, null, 2)))).toBe(false)
    expect(owned(outWith('broken', '{"tool": "rulesmith", '))).toBe(false)
    expect(owned(outWith('array', '["rulesmith"]'))).toBe(false)
    // The first line alone decides for a manifest that begins as rulesmith writes it.
    expect(owned(outWith('cut', '{\n  "tool": "rulesmith",\n  "written": ['))).toBe(true)
    expect(owned(outWith('cut-other', '{\n  "tool": "rulesmith2",\n  "written": ['))).toBe(false)
  })
})

describe('removeTree (a previous output removed with several removals in flight)', () => {
  const dir = scratch()

  it('removes every file and folder, a link but not what it points to, and a missing folder is no error', async () => {
    const old = join(dir, '.out.old-x')
    const kept = join(dir, 'kept')
    write(join(kept, 'precious.txt'), 'keep me')
    for (const t of ['spl', 'kql', 'eql'])
      for (let i = 0; i < 40; i++) write(join(old, t, 'default', `r${i}.${t}`), `${t} ${i}\n`)
    write(join(old, 'compile-manifest.json'), '{}')
    symlinkSync(kept, join(old, 'spl', 'link-to-kept'))
    symlinkSync(join(kept, 'precious.txt'), join(old, 'kql', 'default', 'link-to-file'))
    await removeTree(old)
    expect(readdirSync(dir)).toEqual(['kept'])
    expect(readFileSync(join(kept, 'precious.txt'), 'utf8')).toBe('keep me')
    await expect(removeTree(old)).resolves.toBeUndefined()
  })
})
