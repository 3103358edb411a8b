/**
 * The static check for catastrophic backtracking: it reports the known shapes, stays quiet on the
 * patterns detection rules ordinarily use, and `validate` reports it as a positioned warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { catastrophicBacktracking } from '../../src/regex/backtracking.js'
import { parseSigmaRegex } from '../../src/regex/parse.js'
import { validate } from '../../src/api.js'

function check(source: string, flags = ''): string | undefined {
  const parsed = parseSigmaRegex(source, { i: flags.includes('i'), m: flags.includes('m'), s: flags.includes('s') })
  if ('unsupported' in parsed) throw new Error(`${source}: ${parsed.unsupported.construct}`)
  return catastrophicBacktracking(parsed)?.why
}

describe('catastrophic backtracking: reported', () => {
  test.each([
    ['(a+)+$', "'a+' inside the repeated '(a+)+'"],
    ['(a|a)*$', "alternatives 'a' and 'a'"],
    ['(\\w+\\s?)*$', "'\\w+' inside the repeated '(\\w+\\s?)*'"],
    ['^(\\w+\\s?)*$', "'\\w+' inside"],
    ['(a*)*b', "'a*' inside"],
    ['(.*\\\\)+x', "'.*' inside"],
    ['(x\\w+)+!', "'\\w+' inside"],
    ['(\\w|\\d)+$', "alternatives '\\w' and '\\d'"],
    ['([a-z]+\\d*)+\\.exe', "'[a-z]+' inside"],
    ['(a+){1,20}b', "'a+' inside the repeated '(a+){1,20}'"],
    ['(?:.*\\)){1,}.*"', "'.*' inside the repeated '(?:.*\\)){1,}'"],
    ['(A+)+$', "'A+' inside", 'i'],
    ['x(?=(a+)+b)', "'a+' inside"],
  ])('%s', (source, words, flags = '') => {
    expect(check(source, flags)).toContain(words)
  })
})

describe('catastrophic backtracking: not reported', () => {
  test.each([
    // Nothing after the repeat can fail: the first split found is the match.
    '(a+)+',
    '(\\w+\\s?)*',
    // Iterations separated by a character the inner repeat cannot take.
    '(\\w+\\.)+com',
    '(\\\\[^\\\\]+)+\\.exe',
    '(a+b)+c',
    '([0-9]{1,3}\\.){3}[0-9]{1,3}',
    // Alternatives that never match the same text, and ordinary rule patterns.
    '(ab|a)*c',
    '(a+){2}b',
    '\\d+\\.\\d+',
    '.*a.*b',
    '^[Cc]:\\\\[Uu]sers\\\\[^\\\\]+\\\\AppData\\\\',
    '\\s-[a-zA-Z]{2,}\\s',
    '(?:cmd|powershell)(?:\\.exe)?\\s+/c\\s+.*',
    '[A-Za-z0-9+/]{40,}={0,2}',
    '^\\\\\\\\[^\\\\]+\\\\(?:ADMIN|C|IPC)\\$',
    'https?://(?:[0-9]{1,3}\\.){3}[0-9]{1,3}',
    '(?i)\\$[a-z]+\\s*=\\s*\\[char\\]',
    '\\b(?:net|net1)\\s+(?:stop|start)\\b',
  ])('%s', (source) => {
    expect(check(source.replace(/^\(\?i\)/, ''))).toBeUndefined()
  })
})

describe('validate', () => {
  const rule = (re: string): string => `title: Backtracking test
id: 5f0c3f9e-1111-4222-8333-944455556666
status: test
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|re: '${re}'
  condition: sel
level: low
`
  test('warns at the regex value, once, and the rule still validates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regex-backtracking-'))
    const file = join(dir, 'bad.yml')
    writeFileSync(file, rule('(\\w+\\s?)*$'))
    const r = await validate([file], { compile: false })
    const found = r.diagnostics.filter((d) => d.code === 'rule/regex-backtracking')
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ severity: 'warning', file, at: { line: 8, col: 20 } })
    expect(found[0]!.message).toContain('exponential time')
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  })
  test('says nothing about an ordinary regex', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'regex-backtracking-'))
    const file = join(dir, 'good.yml')
    writeFileSync(file, rule('(\\w+\\.)+exe$'))
    const r = await validate([file], { compile: false })
    expect(r.diagnostics.filter((d) => d.code === 'rule/regex-backtracking')).toEqual([])
  })
})
