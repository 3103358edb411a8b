/**
 * Two rules that would be written to one output file (issue 12: exit 0, one silently lost). The
 * run fails with exit 1, names both rules, and writes nothing.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import { diagnosticLines, ruleText, scratch, write } from './helpers.js'

describe('output file name collisions', () => {
  const dir = scratch()
  // `a.yml`'s second document is written as `a-2`, the name of the file `a-2.yml`'s rule; the ids
  // added to tell them apart start alike.
  const multi = write(
    join(dir, 'rules', 'a.yml'),
    ruleText({ title: "'First'" }) +
      '---\n' +
      ruleText({ title: "'Second'", id: '5f0c3f9e-1111-4222-8333-944455550002' }),
  )
  const single = write(
    join(dir, 'rules', 'a-2.yml'),
    ruleText({ title: "'Third'", id: '5f0c3f9e-1111-4222-8333-944455550003' }),
  )

  it('exit 1, both rules named, nothing written', () => {
    const out = join(dir, 'out')
    const r = cli(['compile', '--target', 'spl', '--out', out, join(dir, 'rules')])
    expect(r.code).toBe(1)
    expect(diagnosticLines(r.stderr)).toEqual([
      `${multi}:12:1: error: output file "spl/default/a-2-5f0c3f9e.spl" would also hold the rule of ${single}:1:1; rename one rule file [output/collision]`,
    ])
    expect(existsSync(out)).toBe(false)
    // The files already streamed into the temporary folder beside DIR went with it.
    expect(readdirSync(dir)).toEqual(['rules'])
  })

  it('names equal but for case get the rule id, as on macOS and Windows they are one file', () => {
    write(join(dir, 'case', 'x', 'Rule.yml'), ruleText())
    write(
      join(dir, 'case', 'y', 'rule.yml'),
      ruleText({ title: "'Other'", id: '7a0c3f9e-1111-4222-8333-944455550002' }),
    )
    const out = join(dir, 'case-out')
    const r = cli(['compile', '--target', 'spl', '--out', out, join(dir, 'case')])
    expect(r.code).toBe(0)
    expect(existsSync(join(out, 'spl', 'default', 'Rule-5f0c3f9e.spl'))).toBe(true)
    expect(existsSync(join(out, 'spl', 'default', 'rule-7a0c3f9e.spl'))).toBe(true)
  })
})
