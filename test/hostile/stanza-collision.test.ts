/**
 * Two different titles that become one savedsearches.conf stanza (issue 12): the later detection
 * would silently replace the earlier in Splunk. The run fails naming both rules, on stdout and
 * with --out (nothing written), and in a bundle.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import { diagnosticLines, ruleText, scratch, write } from './helpers.js'

describe('savedsearches stanza names are unique per output', () => {
  const dir = scratch()
  const a = write(join(dir, 'rules', 'a.yml'), ruleText({ title: "'Stop [svc]'" }))
  const b = write(
    join(dir, 'rules', 'b.yml'),
    ruleText({ title: "'Stop svc'", id: '5f0c3f9e-1111-4222-8333-944455550002' }),
  )
  const expected = `${b}:1:1: error: spl format 'savedsearches': savedsearches.conf stanza "Sigma - Stop svc" is also the savedsearches.conf stanza of ${a}:1:1 (title "Stop [svc]"); one would replace the other: change one title [format/duplicate-name]`

  it('compile fails with exit 1 naming both rules, and prints no conf that would drop one', () => {
    const r = cli(['compile', '--target', 'spl', '--format', 'savedsearches', join(dir, 'rules')])
    expect(r.code).toBe(1)
    expect(diagnosticLines(r.stderr)).toEqual([expected])
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('rulesmith compile: nothing printed: two detections share one name')
  })

  it('compile --out writes nothing', () => {
    const out = join(dir, 'out')
    const r = cli(['compile', '--target', 'spl', '--format', 'savedsearches', '--out', out, join(dir, 'rules')])
    expect(r.code).toBe(1)
    expect(diagnosticLines(r.stderr)).toEqual([expected])
    expect(r.stderr).toContain(`rulesmith compile: nothing written to ${out}`)
    expect(existsSync(out)).toBe(false)
  })

  it('the bare query format has no names to collide', () => {
    expect(cli(['compile', '--target', 'spl', join(dir, 'rules')]).code).toBe(0)
  })
})

describe('in a bundle', () => {
  const dir = scratch()
  write(join(dir, 'rules', 'a.yml'), ruleText({ title: "'Stop [svc]'" }))
  write(join(dir, 'rules', 'b.yml'), ruleText({ title: "'Stop svc'", id: '5f0c3f9e-1111-4222-8333-944455550002' }))

  it('fails the bundle (exit 1), nothing written', () => {
    const out = join(dir, 'release')
    const r = cli(['bundle', '--out', out, join(dir, 'rules')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('savedsearches.conf stanza "Sigma - Stop svc" is also the savedsearches.conf stanza of')
    expect(existsSync(out)).toBe(false)
  })
})
