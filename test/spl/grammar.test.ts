/** The verifier's grammar and semantics on hand-written SPL: what Splunk's documentation says. */
import { withOrigin } from '../../src/origin.js'
import { describe, expect, it } from 'vitest'
import { parseSpl } from '../../grammars/spl.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { pcreToRegExp } from '../../src/verify/spl-pcre.js'
import { verifier } from '../../src/verify/spl.js'
import { match, rule } from './helpers.js'

const R = rule(match('Image', 'x'))

/** Which of the events the query selects (fails on any diagnostic). */
async function run(query: string, events: JsonEvent[]): Promise<number[]> {
  const v = await verifier.verify(query, withOrigin(events, R.logsource))
  expect(v.diagnostics).toEqual([])
  return v.matches!.flatMap((m, i) => (m ? [i] : []))
}

describe('spl grammar', () => {
  it('parses the search / where / regex pipeline', () => {
    const p = parseSpl(
      'a="x" b IN ("1", "2*") NOT c=* | where isnotnull(mvfind(\'d-e\', "x")) | regex f!="y" | search g=h',
    )
    expect(p.errors).toEqual([])
    expect(p.query!.commands.map((c) => c.kind)).toEqual(['search', 'where', 'regex', 'search'])
  })
  it('search: NOT binds tightest, then OR, then (implicit) AND', () => {
    const p = parseSpl('a=1 b=2 OR c=3 AND NOT d=4 OR e=5')
    const s = p.query!.commands[0]!
    expect(s.kind === 'search' && s.expr).toMatchObject({
      kind: 'and',
      items: [
        { kind: 'compare', field: 'a' },
        { kind: 'or', items: [{ field: 'b' }, { field: 'c' }] },
        { kind: 'or', items: [{ kind: 'not' }, { field: 'e' }] },
      ],
    })
  })
  it('eval: AND binds tighter than OR', () => {
    const p = parseSpl('* | where a=1 OR b=2 AND c=3')
    const w = p.query!.commands[1]!
    expect(w.kind === 'where' && w.expr).toMatchObject({ kind: 'or', items: [{ kind: 'compare' }, { kind: 'and' }] })
  })
  it('decodes \\\\ and \\" in search values and eval strings; \\t is a tab in eval only', () => {
    const p = parseSpl('a="C:\\\\x\\"y\\t" | where b="C:\\\\x\\"y\\t"')
    const [s, w] = p.query!.commands
    expect(s!.kind === 'search' && s!.expr).toMatchObject({ value: { text: 'C:\\x"y\\t', quoted: true } })
    expect(w!.kind === 'where' && w!.expr).toMatchObject({ right: { kind: 'string', value: 'C:\\x"y\t' } })
  })
  it('reports syntax errors with an offset, never throws', () => {
    for (const bad of ['a=(', 'a="x', '| where (', 'a IN ("x"', 'a=1 | where f(', '"']) {
      const p = parseSpl(bad)
      expect(p.query, bad).toBeUndefined()
      expect(p.errors.length, bad).toBeGreaterThan(0)
      expect(p.errors[0]!.offset).toBeGreaterThanOrEqual(0)
    }
  })
  it('a query that does not parse is a verify/parse diagnostic', async () => {
    const v = await verifier.verify('Image=(', withOrigin([{}], R.logsource))
    expect(v.matches).toBeUndefined()
    expect(v.diagnostics[0]!.code).toBe('verify/parse')
  })
})

describe('spl verifier semantics (search)', () => {
  const E: JsonEvent[] = [{ Image: 'C:\\Win\\SC.exe' }, { Image: 'x' }, {}, { Image: ['a', 'sc.exe'] }, { Image: '' }]
  it('field values match case-insensitively, * at either end', async () => {
    expect(await run('Image="*\\\\sc.exe"', E)).toEqual([0])
    expect(await run('Image="sc.EXE"', E)).toEqual([3])
  })
  it('NOT f=v keeps events without f; f!=v does not', async () => {
    expect(await run('NOT Image="x"', E)).toEqual([0, 2, 3, 4])
    expect(await run('Image!="x"', E)).toEqual([0, 3, 4])
  })
  it('f=* is presence with a value, IN is OR', async () => {
    expect(await run('Image=*', E)).toEqual([0, 1, 3, 4])
    expect(await run('Image IN ("x", "a")', E)).toEqual([1, 3])
  })
  it('a missing parenthesis changes the meaning (OR before AND)', async () => {
    const ev: JsonEvent[] = [{ a: '1' }, { a: '1', b: '2', c: '3' }, { c: '3' }]
    // Read as (a=1 OR b=2) c=3, not as a=1 OR (b=2 c=3).
    expect(await run('a=1 OR b=2 c=3', ev)).toEqual([1])
    expect(await run('a=1 OR (b=2 c=3)', ev)).toEqual([0, 1])
  })
  it('a subnet or an address is matched as a subnet, quoted or not', async () => {
    const ev: JsonEvent[] = [{ ip: '10.1.2.3' }, { ip: '10.0.0.0/8' }, { ip: 'fe80::1' }, { ip: 'FE80:0:0::1' }]
    expect(await run('ip=10.0.0.0/8', ev)).toEqual([0])
    expect(await run('ip="10.0.0.0/8"', ev)).toEqual([0])
    expect(await run('ip IN ("10.0.0.0/8", "x")', ev)).toEqual([0])
    expect(await run('ip=fe80::/10', ev)).toEqual([2, 3])
    expect(await run('ip="fe80::/10"', ev)).toEqual([2, 3])
    // An address is the subnet of that one address: another spelling of it matches.
    expect(await run('ip="fe80::1"', ev)).toEqual([2, 3])
    expect(await run('NOT ip="10.0.0.0/8"', ev)).toEqual([1, 2, 3])
    // Text that is no address or subnet stays text.
    expect(await run('ip="10.0.0.0/8*"', ev)).toEqual([1])
    expect(await run('ip="10.0.0.0/33"', ev)).toEqual([])
  })
  it('the log source fields are filled in when the event lacks them', async () => {
    expect(
      await run('source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1', [
        {},
        { EventID: 1 },
        { EventID: 4688 },
      ]),
    ).toEqual([0, 1])
  })
  it('a value Splunk cannot extract (empty array, object) is no field: the documented exists/null limit', async () => {
    expect(await run('Image=*', [{ Image: [] }, { Image: {} }, { Image: [null] }])).toEqual([])
  })
  it('a bare term searches _raw: unsupported, reported', async () => {
    const v = await verifier.verify('stop', withOrigin([{}], R.logsource))
    expect(v.diagnostics[0]!.code).toBe('verify/unsupported')
  })
})

describe('spl verifier semantics (where)', () => {
  it('where keeps only TRUE: a NULL comparison drops the event, even under NOT', async () => {
    const ev: JsonEvent[] = [{ a: 'x' }, { a: 'y' }, {}]
    expect(await run('* | where a="x"', ev)).toEqual([0])
    expect(await run('* | where NOT a="x"', ev)).toEqual([1])
    expect(await run('* | where isnull(a) OR NOT a="x"', ev)).toEqual([1, 2])
  })
  it('eval string comparison is case-sensitive; like() has % and _', async () => {
    const ev: JsonEvent[] = [{ a: 'Abc' }, { a: 'abc' }]
    expect(await run('* | where a=="abc"', ev)).toEqual([1])
    expect(await run('* | where like(a, "_bc")', ev)).toEqual([0, 1])
    expect(await run('* | where like(a, "a%")', ev)).toEqual([1])
  })
  it('mvfind/mvfilter read every value of a multivalue field', async () => {
    const ev: JsonEvent[] = [{ a: ['1', '7'] }, { a: '3' }, { a: 'q' }]
    expect(await run('* | where isnotnull(mvfind(a, "^7$"))', ev)).toEqual([0])
    expect(await run('* | where isnotnull(mvfilter(tonumber(a) > 2))', ev)).toEqual([0, 1])
    expect(await run('* | where match(a, "q")', ev)).toEqual([2])
  })
  it('cidrmatch, lower, mvmap, mvdedup, mvcount, if', async () => {
    const ev: JsonEvent[] = [
      { ip: '10.1.1.1', a: ['X', 'x'], b: 'x' },
      { ip: '11.0.0.1', a: 'y', b: 'z' },
    ]
    expect(await run('* | where cidrmatch("10.0.0.0/8", ip)', ev)).toEqual([0])
    expect(await run('* | where mvcount(mvdedup(mvmap(a, lower(a))))=1', ev)).toEqual([0, 1])
    expect(await run('* | where if(lower(b)="x", true(), false())', ev)).toEqual([0])
  })
  it('| regex keeps events whose field matches somewhere; != keeps the others', async () => {
    const ev: JsonEvent[] = [{ a: 'xaby' }, { a: 'q' }, {}]
    expect(await run('* | regex a="ab+"', ev)).toEqual([0])
    expect(await run('* | regex a!="ab+"', ev)).toEqual([1, 2])
  })
})

describe('spl verifier PCRE reading', () => {
  const t = (re: string, s: string): boolean => {
    const r = pcreToRegExp(re)
    if (!('test' in r)) throw new Error(r.unsupported)
    return r.test(s)
  }
  it('$ matches before a final newline; \\z does not', () => {
    expect(t('abc$', 'abc\n')).toBe(true)
    expect(t('abc\\z', 'abc\n')).toBe(false)
  })
  it('. is any character but \\n; (?s) includes it; a character is a code point', () => {
    expect(t('^a.c$', 'a\rc')).toBe(true)
    expect(t('^a.c$', 'a\nc')).toBe(false)
    expect(t('(?s)^a.c$', 'a\nc')).toBe(true)
    expect(t('^a.c$', 'a😀c')).toBe(true)
  })
  it('\\s and \\w are ASCII; (?i) folds case beyond ASCII', () => {
    expect(t('a\\sb', 'a\u00a0b')).toBe(false)
    expect(t('\\w', 'é')).toBe(false)
    expect(t('(?i)^école$', 'ÉCOLE')).toBe(true)
  })
  it('classes with \\S, \\W, \\D and negation', () => {
    expect(t('^[\\s\\S]$', '😀')).toBe(true)
    expect(t('^[^\\S]$', ' ')).toBe(true)
    expect(t('^[^\\S]$', 'a')).toBe(false)
    expect(t('^[a\\D]$', '5')).toBe(false)
  })
  it('constructs outside the subset are reported, not guessed', () => {
    for (const re of ['a++', '[[:alpha:]]', '\\p{L}', '(?|a)']) expect('unsupported' in pcreToRegExp(re), re).toBe(true)
  })
})

describe('spl verifier robustness', () => {
  it('any text gives matches or diagnostics, never an exception', async () => {
    const fc = (await import('fast-check')).default
    const piece = fc.constantFrom(
      'a',
      '=',
      '"x"',
      '(',
      ')',
      '|',
      ' where ',
      ' regex ',
      ' search ',
      'NOT ',
      ' OR ',
      ' AND ',
      ' IN ',
      ',',
      '*',
      'isnull(',
      'mvfind(',
      'mvfilter(',
      '"(?i)^a\\\\z"',
      "'f-g'",
      '5',
      '<',
      '==',
      '+',
      '\\',
      'mvmap(a, ',
      'if(',
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
        async (text) => {
          const v = await verifier.verify(text, withOrigin([{ a: 'x' }, {}, { a: ['1', '2'] }], R.logsource))
          expect(v.matches !== undefined || v.diagnostics.length > 0).toBe(true)
        },
      ),
      { numRuns: 2000, seed: 7 },
    )
  })
})
