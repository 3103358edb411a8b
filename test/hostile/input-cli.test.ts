/**
 * Hostile input through the CLI, each case generated in a temporary folder: the exact diagnostic,
 * the exit code, and bounds — time by the test's generous timeout (speed is measured in
 * bench/hostile-input.mjs), memory by running the CLI under a small V8 heap
 * (`--max-old-space-size`), which a run that holds the whole input would overflow.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const RULE_ID = '11111111-2222-3333-4444-555555555555'
const rule = (detection: string, title = 'hostile') =>
  `title: ${title}\nid: ${RULE_ID}\nstatus: test\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n${detection}\nlevel: low\n`
const SIMPLE = rule('  sel:\n    CommandLine: x\n  condition: sel')

function folder(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-hostile-in-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

/** A heap far below what holding the whole input would take. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=96' }

describe('hostile input: regular expressions', () => {
  const dir = folder({ 'r.yml': rule("  sel:\n    CommandLine|re: '(a+)+$'\n  condition: sel") })
  const events = join(dir, 'events.jsonl')
  writeFileSync(
    events,
    JSON.stringify({ CommandLine: 'a'.repeat(40) + '!' }) + '\n' + JSON.stringify({ CommandLine: 'aaa' }) + '\n',
  )

  it('(a+)+$ on 40 characters: match answers (linear engine) on the reference, eql and osquery', () => {
    for (const target of [[], ['--target', 'eql'], ['--target', 'osquery']]) {
      const r = cli(['match', '--events', events, ...target, dir])
      expect(r.stderr).toBe('')
      expect(r.stdout).toBe(`{"rule":"${RULE_ID}","title":"hostile","event":1}\n`)
      expect(r.code).toBe(0)
    }
  }, 30_000)

  it('spl (PCRE backtracks): the budget ends in a positioned limit/regex-budget error, exit 1, no output', () => {
    writeFileSync(join(dir, 'budget.rulesmith.yml'), 'limits:\n  regex-budget-ms: 200\n')
    const r = cli(['match', '--config', join(dir, 'budget.rulesmith.yml'), '--events', events, '--target', 'spl', dir])
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(
      `${join(dir, 'r.yml')}:1:1: error: spl: the regular expression "(a+)+\\\\z" ran out of its 200 ms budget (catastrophic backtracking?) [limit/regex-budget]`,
    )
    expect(r.code).toBe(1)
  }, 30_000)

  it('the reference evaluator: a pattern the linear engine cannot run ends in limit/regex-budget at the value', () => {
    const d = folder({ 'b.yml': rule("  sel:\n    CommandLine|re: '^(a|a)+(?=b)\\1'\n  condition: sel") })
    writeFileSync(join(d, '.rulesmith.yml'), 'limits:\n  regex-budget-ms: 100\n')
    writeFileSync(join(d, 'e.jsonl'), JSON.stringify({ CommandLine: 'a'.repeat(40) }) + '\n')
    const r = cli(['match', '--events', 'e.jsonl', 'b.yml'], { cwd: d })
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(
      'b.yml:9:21: error: CommandLine: the regular expression "^(a|a)+(?=b)\\\\1" ran out of its 100 ms budget (catastrophic backtracking?) [limit/regex-budget]',
    )
    expect(r.code).toBe(1)
  }, 30_000)

  it('thirteen wildcards on 3,000 characters: the reference and eql answer at once', () => {
    const d = folder({ 'g.yml': rule("  sel:\n    CommandLine: '*a*a*a*a*a*a*a*a*a*a*a*a*b'\n  condition: sel") })
    writeFileSync(join(d, 'e.jsonl'), JSON.stringify({ CommandLine: 'a'.repeat(3000) }) + '\n')
    for (const target of [[], ['--target', 'eql']]) {
      const r = cli(['match', '--events', join(d, 'e.jsonl'), ...target, d])
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '', ''])
    }
  }, 30_000)
})

describe('hostile input: files that are not regular, links, encodings (one folder, one run)', () => {
  const outside = folder({ 'secret.yml': SIMPLE })
  const dir = folder({
    // The bad bytes open line 12, after the 11 lines of the rule.
    'bad.yml': Buffer.concat([Buffer.from(SIMPLE), Buffer.from('# '), Buffer.from([0xc3, 0x28])]),
    'bom.yml': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SIMPLE, 'utf16le')]),
    'nobom.yml': Buffer.from(SIMPLE, 'utf16le'),
    'utf8bom.yml': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(SIMPLE)]),
  })
  execFileSync('mkfifo', [join(dir, 'wait.yml')])
  symlinkSync('b.yml', join(dir, 'a.yml'))
  symlinkSync('a.yml', join(dir, 'b.yml'))
  symlinkSync(join(outside, 'secret.yml'), join(dir, 'link.yml'))
  mkdirSync(join(dir, 'sub'))
  symlinkSync(dir, join(dir, 'sub', 'up'))
  const at = (f: string) => join(dir, f)

  it('each is named exactly: a FIFO refused unopened (no hang), a loop as a loop, a link outside not followed, UTF-16 and bad UTF-8', () => {
    const r = cli(['validate', '--no-compile', dir])
    expect(r.stderr.split('\n').filter((l) => l.includes(': error: ') || l.includes(': warning: '))).toEqual([
      `${at('a.yml')}:1:1: error: cannot read '${at('a.yml')}': a loop of symbolic links [io/symlink-loop]`,
      `${at('b.yml')}:1:1: error: cannot read '${at('b.yml')}': a loop of symbolic links [io/symlink-loop]`,
      `${at('bad.yml')}:12:3: error: rule file '${at('bad.yml')}' is not valid UTF-8: bytes C3 28 at byte offset ${SIMPLE.length + 2} [io/invalid-utf8]`,
      `${at('bom.yml')}:1:1: error: rule file '${at('bom.yml')}' is UTF-16 or UTF-32 text; rulesmith reads UTF-8 (re-save it as UTF-8) [io/utf16]`,
      `${at('link.yml')}:1:1: warning: not following the symbolic link '${at('link.yml')}': it leads to '${join(outside, 'secret.yml')}', outside '${dir}' (--follow-links follows it) [io/link-outside]`,
      `${at('nobom.yml')}:1:1: error: rule file '${at('nobom.yml')}' is UTF-16 or UTF-32 text; rulesmith reads UTF-8 (re-save it as UTF-8) [io/utf16]`,
      `${at('wait.yml')}:1:1: error: refusing rule file '${at('wait.yml')}': it is a FIFO (named pipe), not a regular file [io/not-a-file]`,
    ])
    // utf8bom.yml loads (a UTF-8 byte-order mark is fine); sub/up, a link to the folder itself, is walked once.
    expect(r.stderr).toContain('1 rule in 5 files: 6 errors, 1 warning')
    expect(r.code).toBe(2)
  }, 30_000)

  it('--follow-links follows the link that leaves the folder', () => {
    const r = cli(['validate', '--no-compile', '--follow-links', dir])
    expect(r.stderr).not.toContain('io/link-outside')
    expect(r.stderr).toContain('2 rules in 6 files')
  }, 30_000)

  it('/dev/zero as a rule and as events is refused unread, exit 2', () => {
    const r = cli(['validate', '--no-compile', '/dev/zero'], { env: SMALL_HEAP })
    expect(r.stderr).toContain(
      "/dev/zero:1:1: error: refusing rule file '/dev/zero': it is a character device, not a regular file [io/not-a-file]",
    )
    expect(r.code).toBe(2)
    const m = cli(['match', '--events', '/dev/zero', at('utf8bom.yml')], { env: SMALL_HEAP })
    expect(m.stderr).toContain(
      "/dev/zero:1:1: error: refusing events file '/dev/zero': it is a character device, not a regular file or a pipe [io/not-a-file]",
    )
    expect([m.code, m.stdout]).toEqual([2, ''])
  }, 30_000)

  it('an endless line through a pipe stops at limits.event-line-bytes, exit 2', () => {
    const d = folder({ 'r.yml': SIMPLE, '.rulesmith.yml': 'limits:\n  event-line-bytes: 1000\n' })
    const r = cli(['match', '--events', '-', 'r.yml'], { cwd: d, input: 'x'.repeat(5000) })
    expect(r.stderr).toContain(
      '-:1:1: error: line 1 is longer than 1000 bytes (limits.event-line-bytes in .rulesmith.yml) [limit/event-line]',
    )
    expect([r.code, r.stdout]).toEqual([2, ''])
  }, 30_000)
})

describe('hostile input: names and control characters in diagnostics', () => {
  // A file name cannot hold '/' or NUL; everything else goes.
  const name = 'x.yml\nevil.yml:1:1: error: forged [rule-forged]\r::error file=a::forged\u001b[2J\u0007'
  const dir = folder()
  writeFileSync(join(dir, name + '.yml'), 'title: [\n')
  writeFileSync(join(dir, 'ctl.yml'), rule('  sel:\n    CommandLine: x\n  condition: sel', '"t\\e\\a\\0\\r"'))

  it('text: one line per diagnostic, control characters escaped', () => {
    const r = cli(['validate', '--no-compile', dir])
    const lines = r.stderr.trimEnd().split('\n')
    // Findings, then the summary: nothing else.
    expect(lines.filter((l) => /: (error|warning): /.test(l)).length).toBe(lines.length - 1)
    expect(r.stderr).not.toMatch(/[\u0000\u0007\u001b\r]/)
    expect(r.stderr).toContain(
      'x.yml\\nevil.yml:1:1: error: forged [rule-forged]\\r::error file=a::forged\\x1b[2J\\x07.yml:2:1: error:',
    )
    expect(lines.some((l) => l.startsWith('evil.yml') || l.startsWith('::'))).toBe(false)
  }, 30_000)

  it('github: one workflow command per diagnostic; a name cannot start another', () => {
    const r = cli(['validate', '--no-compile', '--format', 'github', dir])
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.every((l) => /^::(error|warning) file=/.test(l))).toBe(true)
    expect(r.stdout).not.toMatch(/[\u0000\u0007\u001b\r]/)
    expect(r.stdout).toContain(
      'x.yml\\nevil.yml%3A1%3A1%3A error%3A forged [rule-forged]\\r%3A%3Aerror file=a%3A%3Aforged\\x1b[2J\\x07.yml,line=2',
    )
  }, 30_000)
})

describe('hostile input: limits, each with its diagnostic and its override', () => {
  const big = SIMPLE + ('# ' + 'x'.repeat(98) + '\n').repeat(110_000)
  const values = Array.from({ length: 10_001 }, (_, i) => `      - v${i}\n`).join('')
  const expand = rule(
    Array.from({ length: 1500 }, (_, i) => `  s${i}: { CommandLine|contains: v${i} }\n`).join('') +
      `  condition: ${Array.from({ length: 1500 }, () => '1 of them').join(' or ')}`,
  )
  const sels = ['  base: &L [' + Array.from({ length: 1000 }, (_, i) => `v${i}`).join(', ') + ']']
  for (let n = 0; n < 5000; n++) sels.push(`  s${n}: { CommandLine|contains: *L }`)
  const dir = folder({
    'big.yml': big,
    'many.yml': Array.from({ length: 12 }, (_, i) =>
      SIMPLE.replace(RULE_ID, RULE_ID.slice(0, -2) + String(i).padStart(2, '0')),
    ).join('---\n'),
    'values.yml': rule(`  sel:\n    CommandLine|contains:\n${values}  condition: sel`),
    // 230 KB: one anchored list reused through 5,000 aliases (5 million values once expanded).
    'bomb.yml': rule(sels.join('\n') + '\n  condition: 1 of s*'),
    // 60 KB: 1,500 one-value searches, each named 1,500 times (a 2.25-million-value query written out).
    'expand.yml': expand,
    '.rulesmith.yml': 'limits:\n  documents: 10\n',
  })
  const expandLine = expand.split('\n').findIndex((l) => l.startsWith('  condition:')) + 1

  it('file size, documents per file, values per field, alias and condition expansion: each named at its place, in a small heap', () => {
    const r = cli(['validate', '--no-compile', '.'], { cwd: dir, env: SMALL_HEAP })
    expect(r.stderr.split('\n').filter((l) => l.includes(': error: '))).toEqual([
      `big.yml:1:1: error: rule file 'big.yml' is ${big.length} bytes, over the limit of 10485760 (limits.file-bytes in .rulesmith.yml) [limit/file-bytes]`,
      'bomb.yml:9:31: error: a document expands to more than 100000 nodes through YAML aliases (*name) (limits.alias-expansion in .rulesmith.yml) [limit/alias-expansion]',
      `expand.yml:${expandLine}:14: error: the condition expands to more than 1000000 values (each search counted every time the condition names it, through 1 of / all of / them too) (limits.condition-expansion in .rulesmith.yml) [limit/condition-expansion]`,
      // Eleven lines per rule, each after the first behind a `---`: the 10th `---` is on line 120.
      'many.yml:120:1: error: the file holds more than 10 YAML documents (limits.documents in .rulesmith.yml) [limit/documents]',
      "values.yml:10:7: error: 'CommandLine|contains' lists 10001 values, over the limit of 10000 (limits.values-per-field in .rulesmith.yml) [limit/values]",
    ])
    expect(r.code).toBe(1)
  }, 30_000)

  it('the config raises a limit; a limit must be a known name and a positive whole number', () => {
    writeFileSync(join(dir, 'raised.yml'), 'limits:\n  file-bytes: 20000000\n')
    expect(cli(['validate', '--no-compile', '--config', 'raised.yml', 'big.yml'], { cwd: dir }).stderr).toContain(
      '1 rule in 1 file: 0 errors',
    )
    writeFileSync(join(dir, 'bad-limits.yml'), 'limits:\n  file-bytes: -1\n  nope: 3\n')
    const r = cli(['validate', '--no-compile', '--config', 'bad-limits.yml', 'big.yml'], { cwd: dir })
    expect(r.stderr).toContain('limits.file-bytes must be a positive whole number [config/invalid]')
    expect(r.stderr).toContain("limits: unknown limit 'nope'")
    expect(r.code).toBe(2)
  }, 30_000)
})

describe('hostile input: match streams its events', () => {
  it('a 40 MB events file in a 96 MB heap: every match printed, in order', () => {
    const dir = folder({ 'r.yml': rule("  sel:\n    CommandLine|endswith: '7'\n  condition: sel") })
    const file = join(dir, 'events.jsonl')
    const fd = openSync(file, 'w')
    const pad = 'x'.repeat(380)
    const n = 100_000
    let chunk = ''
    for (let i = 0; i < n; i++) {
      chunk += JSON.stringify({ CommandLine: `${pad} ${i}` }) + '\n'
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk)
        chunk = ''
      }
    }
    writeSync(fd, chunk)
    closeSync(fd)
    const r = cli(['match', '--events', file, dir], { env: SMALL_HEAP })
    expect(r.stderr).toBe('')
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(n / 10)
    expect(lines[0]).toBe(`{"rule":"${RULE_ID}","title":"hostile","event":7}`)
    expect(lines.at(-1)).toBe(`{"rule":"${RULE_ID}","title":"hostile","event":${n - 3}}`)
    expect(r.code).toBe(0)
  }, 60_000)

  it('a bad line after thousands of good ones: exit 2 and no partial output', () => {
    const dir = folder({ 'r.yml': SIMPLE })
    const good = (JSON.stringify({ CommandLine: 'x' }) + '\n').repeat(10_000)
    writeFileSync(join(dir, 'e.jsonl'), good + '{"CommandLine": \n')
    const r = cli(['match', '--events', 'e.jsonl', 'r.yml'], { cwd: dir })
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^e\.jsonl:10001:\d+: error: invalid JSON: .* \[events\/invalid-json\]$/m)
    expect(r.code).toBe(2)
  }, 30_000)

  it('events that are not UTF-8, or UTF-16, are named as such', () => {
    const dir = folder({ 'r.yml': SIMPLE })
    writeFileSync(
      join(dir, 'bad.jsonl'),
      Buffer.concat([Buffer.from('{"CommandLine": "'), Buffer.from([0xff]), Buffer.from('"}\n')]),
    )
    writeFileSync(
      join(dir, 'wide.jsonl'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"CommandLine": "x"}\n', 'utf16le')]),
    )
    const bad = cli(['match', '--events', 'bad.jsonl', 'r.yml'], { cwd: dir })
    expect(bad.stderr).toContain('bad.jsonl:1:1: error: the line is not valid UTF-8 [events/invalid-utf8]')
    expect(bad.code).toBe(2)
    const wide = cli(['match', '--events', 'wide.jsonl', 'r.yml'], { cwd: dir })
    expect(wide.stderr).toContain(
      'wide.jsonl:1:1: error: the events file is UTF-16 or UTF-32 text; events are read as UTF-8 (re-save it as UTF-8) [events/utf16]',
    )
    expect(wide.code).toBe(2)
  }, 30_000)
})
