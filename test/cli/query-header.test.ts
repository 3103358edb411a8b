/**
 * The header comments above each query on `rulesmith compile`'s stdout. Titles and file names are
 * untrusted: whatever they hold, every header line must stay one complete comment as the target's
 * reader sees it, and the text after the header must be exactly the bare query. Checked by each
 * target's comment rule, and by the real components where we have them: Microsoft's KQL parser
 * and SQLite.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { headerValue, queryHeader, type CommentStyle } from '../../src/cli/query-header.js'
import { checkKql } from '../../src/verify/kql-parser.js'
import { sqlite } from '../../src/verify/osquery.js'
import { cli, ROOT } from '../support/cli.js'

/** Where each reader ends a line: EQL's grammar (EqlBase.g4) at CR/LF; others at more, so the union. */
const LINE_END = /\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/

/**
 * Split `text` into the header the reader sees and the rest, or say why a header line is not one
 * whole comment. `lines` is how many header lines were written.
 */
function readHeader(style: CommentStyle, text: string, lines: number): { rest: string } | { broken: string } {
  const all = text.split(LINE_END)
  for (const line of all.slice(0, lines)) {
    const ok =
      style === 'spl'
        ? /^``` [^`]* ```$/.test(line) // exactly one pair: any backtick inside could close it
        : line.startsWith({ 'line-slash': '// ', 'line-dash': '-- ' }[style])
    if (!ok) return { broken: line }
  }
  return { rest: all.slice(lines).join('\n') }
}

const FIELDS = (title: string, file: string) =>
  [
    ['rule', '0d1e3c7a-52a4-4f0e-9a55-2f6b1c9e7a01'],
    ['title', title],
    ['file', file],
    ['target', 'kql'],
  ] as const

const STYLES: CommentStyle[] = ['spl', 'line-slash', 'line-dash']

/** Text chosen to end a comment or start a new line in some reader. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc
    .array(
      fc.constantFrom(
        '\n',
        '\r',
        '\u2028',
        '\u2029',
        '\x85',
        '\v',
        '\f',
        '```',
        '`',
        '*/',
        '/*',
        '//',
        '--',
        '#',
        '\\',
        '"',
        '| take 0',
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('x')),
)

describe('query header', () => {
  it('keeps every line one whole comment and the query after it intact, whatever the title and file', () => {
    fc.assert(
      fc.property(hostile, hostile, fc.constantFrom(...STYLES), (title, file, style) => {
        const query = 'DeviceProcessEvents\n| where FileName =~ "sc.exe"'
        const read = readHeader(style, queryHeader(style, FIELDS(title, file)) + query, 4)
        expect(read).toEqual({ rest: query })
      }),
      { numRuns: 400, seed: 17 },
    )
  })

  it('writes each value so it reads back exactly (plain, or as a JSON string)', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const shown = headerValue(value)
        expect(shown.startsWith('"') ? JSON.parse(shown) : shown).toBe(value)
      }),
      { numRuns: 300, seed: 17 },
    )
  })

  it('the check catches a header that does not escape (the check can fail)', () => {
    // Headers written without escaping: each check must see the query changed.
    expect(readHeader('line-slash', '// title: x\n| take 0\nT', 1)).not.toEqual({ rest: 'T' })
    expect(readHeader('spl', '``` title: a``` index=x ```\nT', 1)).not.toEqual({ rest: 'T' })
    expect(readHeader('line-dash', '-- title: a\u2028DROP t;\nSELECT 1', 1)).not.toEqual({ rest: 'SELECT 1' })
  })

  it('Microsoft’s parser reads a headed KQL query with a hostile title as the bare query', async () => {
    const query = 'DeviceProcessEvents\n| where FileName =~ "sc.exe"'
    const header = queryHeader('line-slash', FIELDS('x\n| where 1 == 0 // "\u2028| take 0', 'a\r\nb.yml'))
    expect(await checkKql(header + query)).toEqual([])
    // Unescaped, the title's second line is query text (here it even breaks the query).
    expect(await checkKql('// title: x\n| where 1 == 0\n' + query)).not.toEqual([])
  })

  it('SQLite runs a headed osquery statement with a hostile title as the bare statement', async () => {
    const SQL = await sqlite()
    const db = new SQL.Database()
    const header = queryHeader('line-dash', FIELDS("x\nSELECT 'injected';\u2028SELECT 2;", 'f\n.yml'))
    const results = db.exec(header + 'SELECT 1 AS x;')
    expect(results).toEqual([{ columns: ['x'], values: [[1]] }])
    // Unescaped, SQLite runs the title's statement too.
    expect(db.exec("-- title: x\nSELECT 'injected';\nSELECT 1 AS x;")).toHaveLength(2)
    db.close()
  })

  it('compile prints the header and then exactly the --no-header query, for a rule with a hostile title', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rulesmith-hostile-title-'))
    const rule = join(dir, 'evil ```name\u2028.yml')
    const text = readFileSync(
      join(ROOT, 'rules/windows/process_creation/proc_creation_win_sc_service_stop.yml'),
      'utf8',
    )
    writeFileSync(rule, text.replace(/^title: .*$/m, 'title: "Stop ``` | delete\\n// x */ -- y\\u2028\\r\\nindex=* #"'))
    for (const [target, style] of [
      ['spl', 'spl'],
      ['kql', 'line-slash'],
      ['eql', 'line-slash'],
      ['osquery', 'line-dash'],
    ] as const) {
      const headed = cli(['compile', '--target', target, rule], { cwd: dir })
      const bare = cli(['compile', '--target', target, '--no-header', rule], { cwd: dir })
      expect(headed.code, headed.stderr).toBe(0)
      expect(readHeader(style, headed.stdout, 4)).toEqual({ rest: bare.stdout })
      expect(headed.stdout).toContain(
        'title: "Stop \\u0060\\u0060\\u0060 | delete\\n// x */ -- y\\u2028\\r\\nindex=* #"',
      )
    }
  })
})
