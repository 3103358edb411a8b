/**
 * An output folder inside a rule folder (issue 12: it poisoned the next `validate` with the .yml
 * formats), or one that holds the rules (replacing it would delete them), is refused before
 * anything is compiled, also through a symbolic link; exit 2 and nothing changes.
 */
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import { ruleText, scratch, snapshot, write } from './helpers.js'

describe('--out and the rule paths', () => {
  const dir = scratch()
  const rules = join(dir, 'rules')
  write(join(rules, 'r.yml'), ruleText())
  symlinkSync(rules, join(dir, 'rules-link'))
  const usage = (command: string, message: string) =>
    `rulesmith ${command}: ${message}\nRun 'rulesmith ${command} --help' for usage.\n`

  const cases: [string, string[], string][] = [
    [
      'compile --out inside the rules',
      ['compile', '--target', 'spl', '--format', 'savedsearches', '--out', join(rules, 'build'), rules],
      usage('compile', `--out ${join(rules, 'build')} is inside the rule path '${rules}'; write the output elsewhere`),
    ],
    [
      'compile --out inside the rules through a symbolic link',
      ['compile', '--target', 'spl', '--out', join(dir, 'rules-link', 'build'), rules],
      usage(
        'compile',
        `--out ${join(dir, 'rules-link', 'build')} is inside the rule path '${rules}'; write the output elsewhere`,
      ),
    ],
    [
      'compile --out holding the rules',
      ['compile', '--target', 'spl', '--out', dir, rules],
      usage(
        'compile',
        `--out ${dir} holds the rule path '${rules}', and is replaced whole; write the output elsewhere`,
      ),
    ],
    [
      'bundle --out inside the rules',
      ['bundle', '--out', join(rules, 'release'), rules],
      usage('bundle', `--out ${join(rules, 'release')} is inside the rule path '${rules}'; write the output elsewhere`),
    ],
  ]
  for (const [name, args, stderr] of cases)
    it(`${name}: exit 2, nothing written`, () => {
      const before = snapshot(dir)
      const r = cli(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toBe(stderr)
      expect(snapshot(dir)).toEqual(before)
    })
})
