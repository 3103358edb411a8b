/**
 * A symbolic link given as --out (issue 12: it was replaced by a folder). Decision: a link to a
 * folder is followed — the folder it points to is replaced, the link stays a link; a link to
 * nothing or to a file is refused (exit 2) and left alone.
 */
import { lstatSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import { ruleText, scratch, snapshot, write } from './helpers.js'

describe('a symbolic link as --out', () => {
  const dir = scratch()
  const rules = join(dir, 'rules')
  write(join(rules, 'r.yml'), ruleText())

  it('compile: a link to a folder is followed and stays a link', () => {
    const real = join(dir, 'real-out')
    expect(cli(['compile', '--target', 'spl', '--out', real, rules]).code).toBe(0)
    const link = join(dir, 'out-link')
    symlinkSync(real, link)
    expect(cli(['compile', '--target', 'kql', '--out', link, rules]).code).toBe(0)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readlinkSync(link)).toBe(real)
    expect(readdirSync(real).sort()).toEqual(['compile-manifest.json', 'kql'])
  })

  it('bundle: the same', () => {
    const real = join(dir, 'real-release')
    const link = join(dir, 'release-link')
    expect(cli(['bundle', '--out', real, rules]).code).toBe(0)
    symlinkSync(real, link)
    expect(cli(['bundle', '--out', link, rules]).code).toBe(0)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    expect(readdirSync(real)).toContain('manifest.json')
  })

  it('a link to nothing is refused, exit 2, untouched', () => {
    const dangling = join(dir, 'dangling')
    symlinkSync(join(dir, 'nothing'), dangling)
    const before = snapshot(dir)
    const r = cli(['compile', '--target', 'spl', '--out', dangling, rules])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `rulesmith compile: '${dangling}' is a symbolic link to nothing; remove it or give another folder\nRun 'rulesmith compile --help' for usage.\n`,
    )
    expect(snapshot(dir)).toEqual(before)
  })

  it('a link to a file is refused, exit 2, untouched', () => {
    const file = write(join(dir, 'file.txt'), 'x')
    const link = join(dir, 'file-link')
    symlinkSync(file, link)
    const before = snapshot(dir)
    const r = cli(['bundle', '--out', link, rules])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `rulesmith bundle: '${link}' is a symbolic link to '${file}', which is not a folder\nRun 'rulesmith bundle --help' for usage.\n`,
    )
    expect(snapshot(dir)).toEqual(before)
  })
})
