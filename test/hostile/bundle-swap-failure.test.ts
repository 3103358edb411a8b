/**
 * A failed swap never leaves a `.X.old-*` or `.X.tmp-*` folder (issue 12), whichever step fails:
 * a file write (a full disk mid-file), moving the previous output aside, or moving the new one in.
 * The previous output is byte for byte as it was.
 */
import * as fs from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { faultyFs, writeAtomically, type WriteFs } from '../../src/bundle/write.js'
import { scratch, snapshot } from './helpers.js'

const bytes = (s: string) => Buffer.from(s, 'utf8')
const files = (n: number) => [
  { path: 'manifest.json', data: bytes(`{"tool":"rulesmith","n":${n}}`) },
  { path: 'spl/default/a.spl', data: bytes(`a${n}`.repeat(100)) },
  { path: 'spl/default/b.spl', data: bytes(`b${n}`) },
]

/** node:fs whose renameSync fails with `code` on the call number `nth`. */
function failingRename(code: string, nth: number): WriteFs {
  let calls = 0
  return {
    ...fs,
    renameSync: (from: fs.PathLike, to: fs.PathLike) => {
      if (++calls === nth) throw Object.assign(new Error(`${code}: simulated rename`), { code })
      fs.renameSync(from, to)
    },
  }
}

describe('writeAtomically failures leave the previous output and nothing else', () => {
  const cases: [string, WriteFs, string][] = [
    ['the second file write fails half-way (ENOSPC)', faultyFs('ENOSPC', 2), 'ENOSPC'],
    ['moving the previous output aside fails (EACCES)', failingRename('EACCES', 1), 'EACCES'],
    ['moving the new output in fails (EXDEV); the previous one is put back', failingRename('EXDEV', 2), 'EXDEV'],
  ]
  for (const [name, faulty, code] of cases)
    it(name, () => {
      const parent = scratch()
      const dir = join(parent, 'out')
      writeAtomically(dir, files(1))
      const before = snapshot(parent)
      expect(() => writeAtomically(dir, files(2), undefined, faulty)).toThrow(code)
      expect(snapshot(parent)).toEqual(before)
      expect(fs.readdirSync(parent)).toEqual(['out'])
    })

  it('a first write that fails leaves no folder at all, nor the parents it created', () => {
    const parent = scratch()
    expect(() => writeAtomically(join(parent, 'a', 'b', 'out'), files(1), undefined, faultyFs('ENOSPC', 3))).toThrow(
      'ENOSPC',
    )
    expect(fs.readdirSync(parent)).toEqual([])
  })
})
