/**
 * `validate --all-from`: the checks that span files read the repository's other rules only where
 * they can clash (src/rule/load.ts, loadClashCandidates). What is reported must be exactly what
 * loading every rule of the repository reports (the oracle below is the former code).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { validate } from '../../src/api.js'
import { collectFiles, crossFileChecks, loadPaths } from '../../src/rule/load.js'

/** The former `--all-from`: load the whole repository, check, keep what is on the given files. */
function oracle(given: string[], allFrom: string[]) {
  const loaded = loadPaths(given)
  const files = new Set(loaded.files.map((f) => resolve(f)))
  const repo = loadPaths(allFrom)
  const cross = crossFileChecks(
    [...repo.rules.filter((r) => !files.has(resolve(r.file))), ...loaded.rules],
    [...repo.others.filter((r) => !files.has(resolve(r.file))), ...loaded.others],
  )
  return cross.filter((d) => d.file !== undefined && files.has(resolve(d.file)))
}
const clashes = async (given: string[], allFrom: string[]) =>
  (await validate(given, { allFrom, compile: false })).diagnostics.filter(
    (d) => d.code === 'rule/duplicate-id' || d.code === 'rule/duplicate-title',
  )

const rule = (id: string, title: string, extra = '') => `title: ${title}
id: ${id}
status: test
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\x.exe'
  condition: selection
level: low
${extra}`

const dir = mkdtempSync(join(tmpdir(), 'rulesmith-all-from-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('the same clashes as loading every rule: ids, titles in any case, documents, broken rules', async () => {
  const A = '11111111-1111-4111-8111-111111111111'
  const B = '22222222-2222-4222-8222-222222222222'
  const C = '33333333-3333-4333-8333-333333333333'
  const files: Record<string, string> = {
    'repo/a.yml': rule(A, 'First Rule'),
    'repo/b.yml': rule(B, 'Second Rule'),
    // A broken rule with a clashing id: not a rule, so not a clash (as before).
    'repo/broken.yml': rule(C, 'Broken').replace('condition: selection', 'condition: nope'),
    // A second document in a file, and a correlation with a clashing id.
    'repo/multi.yml': rule('44444444-4444-4444-8444-444444444444', 'Other') + '---\n' + rule(B, 'THIRD rule'),
    'repo/corr.yml': `title: Corr\nid: 55555555-5555-4555-8555-555555555555\ncorrelation:\n  type: event_count\n  rules: [${A}]\n  group-by: [User]\n  timespan: 1h\n  condition:\n    gte: 2\n`,
    'repo/unrelated.yml': rule('66666666-6666-4666-8666-666666666666', 'Unrelated'),
    'changed/dup-id.yml': rule(A, 'Changed One'),
    'changed/dup-title.yml': rule('77777777-7777-4777-8777-777777777777', 'second RULE'),
    'changed/dup-broken.yml': rule(C, 'Fine'),
    'changed/third.yml': rule('88888888-8888-4888-8888-888888888888', 'Third Rule'),
    'changed/corr-id.yml': rule('55555555-5555-4555-8555-555555555555', 'Corr Id Reused'),
    // A correlation reusing a rule's id (checked after every rule, so reported on the correlation).
    'changed/corr-reuses.yml': `title: Corr Reuses\nid: ${B}\ncorrelation:\n  type: event_count\n  rules: [${A}]\n  group-by: [User]\n  timespan: 1h\n  condition:\n    gte: 2\n`,
    'changed/clean.yml': rule('99999999-9999-4999-8999-999999999999', 'Clean'),
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  const repo = join(dir, 'repo')
  const changed = collectFiles([join(dir, 'changed')]).files
  // Each changed file alone (as pre-commit passes one), all together, and the repository holding them.
  for (const given of [...changed.map((f) => [f]), changed]) {
    for (const allFrom of [[repo], [dir]]) {
      const expected = oracle(given, allFrom)
      expect(await clashes(given, allFrom), JSON.stringify({ given, allFrom })).toEqual(expected)
    }
  }
  // The oracle sees them: the comparison is not between two empty lists.
  expect(
    oracle(changed, [repo])
      .map((d) => d.code)
      .sort(),
  ).toEqual(['rule/duplicate-id', 'rule/duplicate-id', 'rule/duplicate-title', 'rule/duplicate-title'])
})

test('ids and titles written in odd YAML forms in the repository are clashes as before', async () => {
  const sub = join(dir, 'odd')
  const A = 'aaaaaaaa-1111-4111-8111-111111111111'
  const escaped = [...A].map((c) => `\\x${c.charCodeAt(0).toString(16)}`).join('')
  const files: Record<string, string> = {
    'repo/escaped-id.yml': rule(`"${escaped}"`, 'Escaped Id'),
    'repo/joined-id.yml': rule(`"aaaaaaaa-1111-\\\n    4111-8111-111111111111"`, 'Joined Id'),
    'repo/anchor.yml': rule('*a', `Anchored\ndescription: &a ${A}`),
    'repo/folded-title.yml': rule('bbbbbbbb-2222-4222-8222-222222222222', 'A Title\n  Folded Over Lines'),
    'repo/escaped-title.yml': rule('cccccccc-3333-4333-8333-333333333333', '"\\x41nother\\u0020Title"'),
    'repo/quoted-title.yml': rule('dddddddd-4444-4444-8444-444444444444', "'It''s Quoted'"),
    'repo/second-doc.yml':
      rule('eeeeeeee-5555-4555-8555-555555555555', 'First Doc') + '---\n' + rule(`'${A}'`, 'Second Doc'),
    'changed/a.yml': rule(A, 'Changed A'),
    'changed/folded.yml': rule('ffffffff-6666-4666-8666-666666666666', 'a title folded over LINES'),
    'changed/escaped.yml': rule('99999999-7777-4777-8777-777777777777', 'ANOTHER title'),
    'changed/quoted.yml': rule('88888888-8888-4888-8888-888888888888', "it's quoted"),
  }
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(sub, name, '..'), { recursive: true })
    writeFileSync(join(sub, name), text)
  }
  const changed = collectFiles([join(sub, 'changed')]).files
  // Each repository file alone as the repository: each clashes with a changed file, as the full load says.
  for (const repoFile of collectFiles([join(sub, 'repo')]).files) {
    for (const given of [...changed.map((f) => [f]), changed])
      expect(await clashes(given, [repoFile]), JSON.stringify([given, repoFile])).toEqual(oracle(given, [repoFile]))
    expect(oracle(changed, [repoFile]).length, repoFile).toBe(1)
  }
})

test("the project's own rules: every rule given alone against the whole folder", async () => {
  const rules = collectFiles(['rules']).files
  for (const file of rules.slice(0, 3)) expect(await clashes([file], ['rules'])).toEqual(oracle([file], ['rules']))
})

test('a repository folder that cannot be read is an error, not a check passed unseen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-all-from-missing-'))
  try {
    const file = join(dir, 'a.yml')
    writeFileSync(file, rule('1c2d3e4f-0000-4000-8000-000000000001', 'Missing repository'))
    const missing = join(dir, 'no-such-folder')
    const found = (await validate([file], { allFrom: [missing], compile: false })).diagnostics
    expect(found.map((d) => [d.code, d.severity, d.file])).toEqual([['io/unreadable', 'error', missing]])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
