/**
 * The text search before `validate --all-from` parses a repository's files (src/rule/clash-prefilter.ts)
 * may say "maybe" too often but must never skip a file whose documents have one of the ids or
 * titles: each text here is parsed as the loader parses it, and the search is asked for the very
 * ids and titles found in it.
 */
import fc from 'fast-check'
import yaml from 'js-yaml'
import { expect, test } from 'vitest'
import { clashPrefilter } from '../../src/rule/clash-prefilter.js'
import { parseYaml } from '../../src/rule/yaml.js'

/** Every string `id` and `title` at the top of the text's documents, as the full parse sees them. */
function found(text: string): { ids: string[]; titles: string[] } {
  const ids: string[] = []
  const titles: string[] = []
  for (const { value: v } of parseYaml(text, { maxDocuments: 100, maxNodes: 10_000 }).documents) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue
    const { id, title } = v as Record<string, unknown>
    if (typeof id === 'string') ids.push(id)
    if (typeof title === 'string') titles.push(title)
  }
  return { ids, titles }
}

/** The search, asked for each id and title the text holds, alone and all together, says "maybe". */
function neverMisses(text: string): number {
  const { ids, titles } = found(text)
  const asked = [
    ...ids.map((id) => ({ ids: new Set([id]), titles: new Set<string>() })),
    ...titles.map((t) => ({ ids: new Set<string>(), titles: new Set([t.toLowerCase()]) })),
    // With other needles beside them.
    ...(ids.length + titles.length === 0
      ? []
      : [
          {
            ids: new Set([...ids, 'no-such-id']),
            titles: new Set([...titles.map((t) => t.toLowerCase()), 'no such title']),
          },
        ]),
  ]
  for (const wanted of asked)
    expect(
      clashPrefilter(wanted)(text),
      `${JSON.stringify(text)} ${JSON.stringify([...wanted.ids, ...wanted.titles])}`,
    ).toBe(true)
  return ids.length + titles.length
}

const ID = '0e1f7a3c-1111-4222-8333-944455556666'

test('ids and titles in odd YAML forms are found', () => {
  const texts = [
    `title: Plain Title\nid: ${ID}\n`,
    `title: 'Single ''Quoted'' Title'\nid: '${ID}'\n`,
    `title: "Double \\"Quoted\\" Title"\nid: "${ID}"\n`,
    // Escapes: every character of the id written as \x, \u or \U; a line joined by `\`.
    `id: "${[...ID].map((c, i) => (i % 3 === 0 ? `\\x${c.charCodeAt(0).toString(16)}` : i % 3 === 1 ? `\\u00${c.charCodeAt(0).toString(16)}` : `\\U000000${c.charCodeAt(0).toString(16)}`)).join('')}"\ntitle: "Esc\\x61ped \\u0054itle\\ttab"\n`,
    `id: "0e1f7a3c-1111-\\\n    4222-8333-944455556666"\ntitle: "Joined\\\n  Line Title"\n`,
    // A quote inside a plain scalar before the escaped one (the search must not pair quotes wrongly).
    `description: a 5" disk and C:\\x\nid: "\\x30e1f7a3c-1111-4222-8333-944455556666"\n`,
    `description: '"C:\\Windows\\'\ntitle: "T\\x69tle After Windows Path"\n`,
    // Folded lines: plain, quoted, block scalars.
    `title: A Title Folded\n  Over Two Lines\nid: ${ID}\n`,
    `title: "A Title Folded\n\n  With An Empty Line"\n`,
    `title: 'Single Folded\n   Title'\n`,
    `title: >-\n  Folded Block\n  Title\n`,
    `title: |\n  Literal Block Title\n`,
    `title: |-\n  Literal\n  Two Lines\n`,
    `title: >\n  Kept Final Break`,
    // Flow mappings, keys in quotes, anchors and aliases, merge keys, tags.
    `{"title": Flow Title, 'id': ${ID}}\n`,
    `{title: "Flow\\u0020Escaped", id: "${ID}"}\n`,
    `base: &anchor ${ID}\nnames: &t Anchored Title\nid: *anchor\ntitle: *t\n`,
    `defaults: &d\n  id: ${ID}\n  title: Merged Title\n<<: *d\n`,
    `id: !!str ${ID}\ntitle: !!str Tagged Title\n`,
    `? id\n: ${ID}\n? title\n: Explicit Key Title\n`,
    // Several documents; the clash in the second.
    `title: First\nid: 11111111-1111-4111-8111-111111111111\n---\ntitle: Second Document\nid: ${ID}\n...\n---\n{id: third}\n`,
    // Case and Unicode in titles: the search lowers the text as the check lowers titles.
    `title: UPPER Case TITLE\n`,
    `title: "\\u212Aelvin Sign"\n`, // KELVIN SIGN lowers to an ASCII k
    `title: \u0130stanbul D\u0130SK\n`, // İ lowers to two characters
    `title: \u039F\u0394\u039F\u03A3 \u03A3\u03A3\n`, // capital sigma lowers by its neighbours
    `title: "\\u03A3\\u03A3 escaped sigma"\n`,
    `title: Stra\u00DFe \u00C9t\u00E9\n`,
    `title: "\\N\\_\\L\\P\\e\\a\\b\\v\\f\\0\\/\\ spaced"\n`,
    `title: "CRLF\r\n  Folded"\r\nid: "${ID}"\r\n`,
    `title: It's\n  plain\n`,
  ]
  let n = 0
  for (const text of texts) n += neverMisses(text)
  // Each text gave at least one id or title to look for (none failed to parse).
  expect(n).toBeGreaterThanOrEqual(texts.length)
})

test('every escape js-yaml knows is decoded as js-yaml decodes it', () => {
  let known = 0
  for (let c = 0; c < 0x100; c++) {
    const text = `title: "a\\${String.fromCharCode(c)}${c === 0x78 ? '41' : c === 0x75 ? '0041' : c === 0x55 ? '00000041' : ''}b c"\n`
    let value: unknown
    try {
      value = yaml.load(text, { schema: yaml.CORE_SCHEMA })
    } catch {
      continue // not an escape
    }
    known++
    neverMisses(text)
    expect(value).toBeTypeOf('object')
  }
  // \0 \a \b \t TAB \n \v \f \r \e SPACE \" \/ \\ \N \_ \L \P \x \u \U and the line break forms.
  expect(known).toBeGreaterThanOrEqual(21)
})

test('generated ids and titles, written in every style, are never missed', () => {
  const char = fc.constantFrom(
    ...'aZk0-9 .:#,[]{}&*!|>?%@`'.split(''),
    ' ',
    '  ',
    "'",
    '"',
    '\\',
    '\t',
    '\n',
    '\u00a0',
    '\u0085',
    '\u2028',
    '\u00e9',
    '\u00c9',
    '\u03a3',
    '\u03c3',
    '\u212a',
    '\u0130',
    '\u00df',
    '\ud83d\ude00',
  )
  const value = fc.string({ unit: char, minLength: 1, maxLength: 24 })
  const escape = (c: string, how: number): string => {
    const code = c.codePointAt(0) ?? 0
    const hex = (n: number, w: number) => n.toString(16).padStart(w, '0')
    if (how === 0 && code < 0x100) return `\\x${hex(code, 2)}`
    if (how === 1 && code < 0x10000) return `\\u${hex(code, 4)}`
    if (how === 2) return `\\U${hex(code, 8)}`
    return c === '"' || c === '\\' ? `\\${c}` : c === '\n' ? '\\n' : c
  }
  // One scalar in one style: the parse decides what it is; unparsable texts simply find nothing.
  const scalar = fc.oneof(
    value.map((v) => v),
    value.map((v) => `'${v.replace(/'/g, "''")}'`),
    fc
      .tuple(value, fc.array(fc.nat(3), { minLength: 24, maxLength: 24 }))
      .map(([v, how]) => `"${[...v].map((c, i) => escape(c, how[i] ?? 3)).join('')}"`),
    // Folded over lines: in quotes, with `\` joins, and as block scalars.
    fc.tuple(value, value).map(([a, b]) => `"${escape(a, 3)}\n    ${escape(b, 3)}"`),
    fc
      .tuple(value, value)
      .map(([a, b]) => `"${[...a].map((c) => escape(c, 3)).join('')}\\\n    ${b.replace(/["\\]/g, '')}"`),
    fc.tuple(value, value).map(([a, b]) => `'${a.replace(/'/g, "''")}\n\n    ${b.replace(/'/g, "''")}'`),
    fc
      .tuple(fc.constantFrom('|', '>', '|-', '>-', '|+', '>+'), value, value)
      .map(([h, a, b]) => `${h}\n    ${a.replace(/\n/g, ' ')}\n    ${b.replace(/\n/g, ' ')}`),
  )
  const doc = fc.oneof(
    fc.tuple(scalar, scalar).map(([i, t]) => `title: ${t}\nid: ${i}\n`),
    fc.tuple(scalar, scalar).map(([i, t]) => `{id: ${i}, title: ${t}}\n`),
    fc.tuple(scalar, scalar).map(([i, t]) => `a: &a ${i}\nb: &b ${t}\nid: *a\ntitle: *b\n`),
    fc.tuple(scalar, scalar).map(([i, t]) => `base: &m\n  id: ${i}\n  title: ${t}\n<<: *m\n`),
  )
  // And js-yaml's own writer, in its styles (it escapes what it must, folds long lines).
  const dumped = fc
    .tuple(value, value, fc.constantFrom<'"' | "'">('"', "'"), fc.boolean(), fc.integer({ min: 8, max: 40 }))
    .map(([id, title, quotingType, forceQuotes, lineWidth]) =>
      yaml.dump({ id, title }, { quotingType, forceQuotes, lineWidth }),
    )
  let seen = 0
  fc.assert(
    fc.property(fc.array(fc.oneof(doc, dumped), { minLength: 1, maxLength: 3 }), (docs) => {
      seen += neverMisses(docs.join('---\n'))
    }),
    { numRuns: 400 },
  )
  // Most generated texts parse: the property is not about empty lists.
  expect(seen).toBeGreaterThan(400)
})
