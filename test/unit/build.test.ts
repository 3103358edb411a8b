import { describe, expect, it } from 'vitest'
import type { Node } from '../../src/ast/nodes.js'
import { parsePattern } from '../../src/rule/values.js'
import { patternToSigma } from '../../src/ast/pattern.js'
import { diagnosticsOf, rule } from '../support/rules.js'
import { DEFAULT_LIMITS, setLimits } from '../../src/limits.js'

/** Strip positions so trees compare by meaning. */
function strip(n: Node): unknown {
  return JSON.parse(JSON.stringify(n, (k, v) => (k === 'at' ? undefined : v)))
}
const det = (yaml: string) => strip(rule(yaml).detection)
const lit = (text: string) => ({ kind: 'lit', text })
const ANY = { kind: 'any' }
const ONE = { kind: 'one' }
const match = (field: string, pattern: unknown[], cased = false) => ({ kind: 'Match', field, pattern, cased })

describe('Sigma escaping (spec, "Escape Character")', () => {
  it.each([
    ['C:\\Windows\\System32', [lit('C:\\Windows\\System32')]],
    ['C:\\\\Windows', [lit('C:\\Windows')]],
    ['\\*', [lit('*')]],
    ['\\?', [lit('?')]],
    ['a\\\\*', [lit('a\\'), ANY]],
    ['a\\\\\\*', [lit('a\\*')]],
    ['\\\\\\\\', [lit('\\\\')]],
    ['\\\\\\', [lit('\\\\')]],
    ['prog?.exe', [lit('prog'), ONE, lit('.exe')]],
    ['antivirus_V*.exe', [lit('antivirus_V'), ANY, lit('.exe')]],
    ['**a', [ANY, lit('a')]],
    ['trailing\\', [lit('trailing\\')]],
    ['', []],
  ])('%j decodes', (value, expected) => {
    expect(parsePattern(value)).toEqual(expected)
  })

  it('round-trips through the escaped notation', () => {
    for (const v of ['a\\*b', 'x?y*z', 'C:\\\\*', 'q\\?'])
      expect(parsePattern(patternToSigma(parsePattern(v)))).toEqual(parsePattern(v))
  })
})

describe('detection structure', () => {
  it('ANDs the fields of a map and ORs the values of a list', () => {
    expect(
      det(`
    sel:
        Image: 'a.exe'
        CommandLine:
            - x
            - y
    condition: sel`),
    ).toEqual({
      kind: 'And',
      items: [
        match('Image', [lit('a.exe')]),
        { kind: 'Or', items: [match('CommandLine', [lit('x')]), match('CommandLine', [lit('y')])] },
      ],
    })
  })

  it('ORs a list of maps', () => {
    expect(
      det(`
    sel:
        - Image: a
        - Image: b
    condition: sel`),
    ).toEqual({ kind: 'Or', items: [match('Image', [lit('a')]), match('Image', [lit('b')])] })
  })

  it('reads keywords as contains-anywhere patterns, |all ANDs them', () => {
    expect(
      det(`
    keywords:
        - evil
        - 'ba?d*x'
    condition: keywords`),
    ).toEqual({
      kind: 'Or',
      items: [
        { kind: 'Keyword', pattern: [ANY, lit('evil'), ANY], cased: false },
        { kind: 'Keyword', pattern: [ANY, lit('ba'), ONE, lit('d'), ANY, lit('x'), ANY], cased: false },
      ],
    })
    expect(
      det(`
    keywords:
        '|all':
            - a
            - b
    condition: keywords`),
    ).toEqual({
      kind: 'And',
      items: [
        { kind: 'Keyword', pattern: [ANY, lit('a'), ANY], cased: false },
        { kind: 'Keyword', pattern: [ANY, lit('b'), ANY], cased: false },
      ],
    })
  })

  it('expands 1 of / all of over identifiers; them skips _ identifiers', () => {
    const d = det(`
    sel_a: { A: 1 }
    sel_b: { B: 2 }
    _helper: { C: 3 }
    condition: 1 of sel_* and not all of them`)
    expect(d).toEqual({
      kind: 'And',
      items: [
        { kind: 'Or', items: [match('A', [lit('1')]), match('B', [lit('2')])] },
        { kind: 'Not', item: { kind: 'And', items: [match('A', [lit('1')]), match('B', [lit('2')])] } },
      ],
    })
  })

  it('treats numbers and booleans as their text', () => {
    expect(
      det(`
    sel:
        EventID: 4688
        Enabled: true
    condition: sel`),
    ).toEqual({ kind: 'And', items: [match('EventID', [lit('4688')]), match('Enabled', [lit('true')])] })
  })

  it('reads null as Null, and a condition list as OR', () => {
    expect(
      det(`
    sel: { Field: null }
    other: { B: x }
    condition:
        - sel
        - other`),
    ).toEqual({ kind: 'Or', items: [{ kind: 'Null', field: 'Field' }, match('B', [lit('x')])] })
  })
})

describe('modifiers', () => {
  const one = (key: string, value: string) =>
    det(`
    sel:
        ${key}: ${value}
    condition: sel`)

  it('contains / startswith / endswith wrap the value in wildcards', () => {
    expect(one('F|contains', 'ab')).toEqual(match('F', [ANY, lit('ab'), ANY]))
    expect(one('F|startswith', 'ab')).toEqual(match('F', [lit('ab'), ANY]))
    expect(one('F|endswith', "'\\a.exe'")).toEqual(match('F', [ANY, lit('\\a.exe')]))
    expect(one('F|contains', "'a*b'")).toEqual(match('F', [ANY, lit('a'), ANY, lit('b'), ANY]))
  })

  it('all ANDs a value list', () => {
    expect(one('F|contains|all', '[a, b]')).toEqual({
      kind: 'And',
      items: [match('F', [ANY, lit('a'), ANY]), match('F', [ANY, lit('b'), ANY])],
    })
  })

  it('cased makes a match case-sensitive', () => {
    expect(one('F|cased', 'Ab')).toEqual(match('F', [lit('Ab')], true))
    expect(one('F|contains|cased', 'Ab')).toEqual(match('F', [ANY, lit('Ab'), ANY], true))
  })

  it('re keeps the expression and its flags; a leading (?i) becomes a flag', () => {
    expect(one('F|re', "'a.+b'")).toEqual({
      kind: 'Regex',
      field: 'F',
      source: 'a.+b',
      flags: { i: false, m: false, s: false },
    })
    expect(one('F|re|i|m|s', "'^a'")).toEqual({
      kind: 'Regex',
      field: 'F',
      source: '^a',
      flags: { i: true, m: true, s: true },
    })
    expect(one('F|re', "'(?i)abc'")).toEqual({
      kind: 'Regex',
      field: 'F',
      source: 'abc',
      flags: { i: true, m: false, s: false },
    })
  })

  it('base64 encodes the value; base64offset gives the three offsets', () => {
    expect(one('F|base64', 'cmd')).toEqual(match('F', [lit('Y21k')]))
    expect(one('F|base64offset|contains', 'http://')).toEqual({
      kind: 'Or',
      items: [
        match('F', [ANY, lit('aHR0cDovL'), ANY]),
        match('F', [ANY, lit('h0dHA6Ly'), ANY]),
        match('F', [ANY, lit('odHRwOi8v'), ANY]),
      ],
    })
  })

  it('utf16 encodings change the bytes before base64', () => {
    expect(one('F|wide|base64', 'cmd')).toEqual(match('F', [lit(Buffer.from('cmd', 'utf16le').toString('base64'))]))
    expect(one('F|utf16le|base64', 'cmd')).toEqual(match('F', [lit('YwBtAGQA')]))
    expect(one('F|utf16be|base64', 'cmd')).toEqual(match('F', [lit('AGMAbQBk')]))
    expect(one('F|utf16|base64', 'cmd')).toEqual(match('F', [lit('//5jAG0AZAA=')]))
  })

  it('windash makes every dash-like character interchangeable', () => {
    const d = one('F|windash|contains', "' -f '") as { kind: string; items: unknown[] }
    expect(d.kind).toBe('Or')
    expect(d.items).toEqual(['-', '/', '\u2013', '\u2014', '\u2015'].map((c) => match('F', [ANY, lit(` ${c}f `), ANY])))
    const two = one('F|windash', "'-a -b'") as { items: unknown[] }
    expect(two.items).toHaveLength(25)
  })

  it('cidr, comparisons, exists, fieldref and neq build their own nodes', () => {
    expect(one('Ip|cidr', '10.0.0.0/8')).toEqual({ kind: 'Cidr', field: 'Ip', cidr: '10.0.0.0/8', family: 4 })
    expect(one('Ip|cidr', "'fe80::/10'")).toEqual({ kind: 'Cidr', field: 'Ip', cidr: 'fe80::/10', family: 6 })
    expect(one('N|gt', '5')).toEqual({ kind: 'Compare', field: 'N', op: 'gt', value: 5 })
    expect(one('N|lte', '2.5')).toEqual({ kind: 'Compare', field: 'N', op: 'lte', value: 2.5 })
    expect(one('F|exists', 'true')).toEqual({ kind: 'Exists', field: 'F' })
    expect(one('F|exists', 'false')).toEqual({ kind: 'Not', item: { kind: 'Exists', field: 'F' } })
    expect(one('A|fieldref', 'B')).toEqual({ kind: 'FieldRef', field: 'A', ref: 'B', cased: false })
    expect(one('F|neq', 'x')).toEqual({
      kind: 'And',
      items: [
        { kind: 'Not', item: { kind: 'Null', field: 'F' } },
        { kind: 'Not', item: match('F', [lit('x')]) },
      ],
    })
  })

  it('expand replaces placeholders with the values supplied', () => {
    const r = rule(
      `
    sel:
        User|expand: '%admins%'
    condition: sel`,
      { placeholders: { admins: ['root', 'adm*'] } },
    )
    expect(strip(r.detection)).toEqual({
      kind: 'Or',
      items: [match('User', [lit('root')]), match('User', [lit('adm'), ANY])],
    })
  })
})

describe('semantic checks', () => {
  const codes = (yaml: string) =>
    diagnosticsOf(yaml).map((d) => `${d.at!.line + 1}:${d.at!.col + 1} ${d.severity} ${d.code}`)

  it.each([
    [
      'undefined identifier, pointing inside the condition',
      `
    sel: { A: 1 }
    condition: sel and filter`,
      ['9:24 error rule/undefined-identifier'],
    ],
    [
      'unused identifier',
      `
    sel: { A: 1 }
    unused: { B: 1 }
    condition: sel`,
      ['9:5 warning rule/unused-identifier'],
    ],
    [
      'unknown modifier',
      `
    sel:
        A|contain: x
    condition: sel`,
      ['9:9 error rule/unknown-modifier'],
    ],
    [
      'unsupported time modifier',
      `
    sel:
        A|hour: 3
    condition: sel`,
      ['9:9 error rule/unsupported-modifier'],
    ],
    [
      '|all on a single value',
      `
    sel:
        A|contains|all: x
    condition: sel`,
      ['9:9 error rule/all-single-value'],
    ],
    [
      '|re with |contains',
      `
    sel:
        A|re|contains: x
    condition: sel`,
      ['9:9 error rule/modifier-conflict'],
    ],
    [
      'regex flag without re',
      `
    sel:
        A|i: x
    condition: sel`,
      ['9:9 error rule/modifier-conflict'],
    ],
    [
      '|cidr on a non-CIDR',
      `
    sel:
        A|cidr: 10.0.0.300/8
    condition: sel`,
      ['9:17 error rule/invalid-cidr'],
    ],
    [
      'null in a list',
      `
    sel:
        A:
            - x
            - null
    condition: sel`,
      ['11:15 error rule/null-in-list'],
    ],
    [
      'exists with a string',
      `
    sel:
        A|exists: yes
    condition: sel`,
      // YAML 1.2 reads `yes` as text (hence the error); pySigma's YAML 1.1 as true (the warning).
      ['9:19 warning rule/yaml-version-ambiguity', '9:19 error rule/exists-not-boolean'],
    ],
    [
      'gt with text',
      `
    sel:
        A|gt: many
    condition: sel`,
      ['9:15 error rule/compare-not-number'],
    ],
    [
      'invalid regex',
      `
    sel:
        A|re: '(unclosed'
    condition: sel`,
      ['9:15 error rule/invalid-regex'],
    ],
    [
      'placeholder without a value',
      `
    sel:
        A|expand: '%nobody%'
    condition: sel`,
      ['9:19 error rule/unresolved-placeholder'],
    ],
    [
      'condition syntax error, pointing inside the condition',
      `
    sel: { A: 1 }
    condition: sel and or sel`,
      ['9:24 error cond/syntax'],
    ],
    [
      'empty selection',
      `
    sel: []
    condition: sel`,
      ['8:10 error rule/empty-search'],
    ],
    [
      '1 of a pattern matching nothing',
      `
    sel: { A: 1 }
    condition: sel or 1 of filter_*`,
      ['9:28 error rule/undefined-identifier'],
    ],
  ])('%s', (_, yaml, expected) => {
    expect(codes(yaml)).toEqual(expected)
  })

  it('accepts a clean rule without any diagnostic', () => {
    expect(
      diagnosticsOf(`
    sel:
        Image|endswith: '\\sc.exe'
        CommandLine|contains|all: [' stop ', 'spooler']
    filter: { User: SYSTEM }
    condition: sel and not filter`),
    ).toEqual([])
  })
})

describe('calendar dates', () => {
  it('accepts real days only, leap years included', async () => {
    const { isCalendarDate } = await import('../../src/rule/checks.js')
    expect(['2024-02-29', '2000-02-29', '2023-12-31', '2023-01-01'].map(isCalendarDate)).toEqual([
      true,
      true,
      true,
      true,
    ])
    expect(
      ['2023-02-29', '1900-02-29', '2023-04-31', '2023-13-01', '2023-00-10', '2023-01-00', '2023-1-01'].map(
        isCalendarDate,
      ),
    ).toEqual([false, false, false, false, false, false, false])
  })
})

describe('metadata checks', () => {
  it('names a malformed id, an impossible date, an ATT&CK tag that is no ATT&CK id, and a correlation without its condition', async () => {
    const { loadRuleText } = await import('../../src/rule/load.js')
    const text = `title: t
id: not-a-uuid
date: 2024-02-30
modified: 2023-01-01
tags:
    - attack.t1489
    - attack.t148
    - attack.s0001
    - attack.ds0005
    - attack.stealth
logsource: { product: windows }
detection:
    sel: { A: 1 }
    condition: sel
---
title: c
correlation:
    type: event_count
    rules: [x]
    timespan: 1h
`
    const r = loadRuleText(text, 'meta.yml')
    expect(r.diagnostics.map((d) => `${d.at!.line + 1}:${d.at!.col + 1} ${d.severity} ${d.code}`)).toEqual([
      '2:5 error rule/invalid-uuid',
      '3:7 error rule/invalid-date',
      '4:11 warning rule/modified-before-date',
      '7:7 error rule/invalid-attack-tag',
      '18:5 error correlation/condition',
    ])
    expect(r.others).toMatchObject([{ kind: 'correlation', title: 'c' }])
    expect(r.rules).toHaveLength(0)
  })
})

describe('conditions over many identifiers (issue 16: linear, and bounded)', () => {
  // Identifiers out of name order, with names that are prefixes of others and `_` helpers.
  const names = ['sel_b', 'sel', 'sel_a1', 'filter_x', 'sel_a', '_sel_c', 'selx', 'a*b', 'flt', 'sel_']
  const detection = names.map((n, i) => `    '${n}': { F${i}: v }`).join('\n')
  const fieldOf = (n: string) => `F${names.indexOf(n)}`
  /**
   * The reference: every identifier tested against the whole pattern, in detection order, by a
   * wildcard match of its own (no regular expression): `*` is any run, every other character itself.
   */
  const globMatches = (pattern: string, name: string): boolean => {
    if (pattern === '') return name === ''
    if (pattern[0] === '*')
      return [...Array(name.length + 1).keys()].some((k) => globMatches(pattern.slice(1), name.slice(k)))
    return name[0] === pattern[0] && globMatches(pattern.slice(1), name.slice(1))
  }
  const reference = (pattern: string) => names.filter((n) => globMatches(pattern, n))
  const fieldsIn = (node: unknown): string[] => {
    const n = node as { kind: string; field?: string; items?: unknown[] }
    return n.kind === 'Match' ? [n.field ?? ''] : (n.items ?? []).flatMap(fieldsIn)
  }

  it.each(['sel*', 'sel_*', 'sel_a*', '*', '*_a*', 's*l*', 'sel', 'sel_', '*x', 'f*', 'a*b', '_*', 'sel_a1*'])(
    "'1 of %s' names the identifiers the whole pattern matches, in detection order",
    (pattern) => {
      const d = det(`${detection}\n    condition: 1 of ${pattern}`)
      expect(fieldsIn(d)).toEqual(reference(pattern).map(fieldOf))
    },
  )

  it('a condition past limits.condition-expansion is refused at the condition; at the limit it builds', () => {
    setLimits({ ...DEFAULT_LIMITS, conditionExpansion: 6 })
    try {
      const three = `    a: { F: [x, y, z] }\n    b: { G: [u, v, w] }\n`
      expect(diagnosticsOf(`${three}    condition: a or b`).filter((d) => d.severity === 'error')).toEqual([])
      const over = diagnosticsOf(`${three}    condition: a or b or a`)
      expect(over.map((d) => d.code)).toEqual(['limit/condition-expansion'])
      expect(over[0]?.message).toBe(
        'the condition expands to more than 6 values (each search counted every time the condition names it, through 1 of / all of / them too) (limits.condition-expansion in .rulesmith.yml)',
      )
      expect(diagnosticsOf(`${three}    condition: 1 of them and all of them`).map((d) => d.code)).toEqual([
        'limit/condition-expansion',
      ])
      // A list of conditions shares one budget and gives one diagnostic.
      expect(diagnosticsOf(`${three}    condition: [a or b, 1 of them, b]`).map((d) => d.code)).toEqual([
        'limit/condition-expansion',
      ])
    } finally {
      setLimits(DEFAULT_LIMITS)
    }
  })

  it("patterns tested against many identifiers count toward the limit: '1 of *k' over and over is refused, not quadratic", () => {
    setLimits({ ...DEFAULT_LIMITS, conditionExpansion: 1000 })
    try {
      const many = Array.from({ length: 100 }, (_, i) => `    s${i}k: { F: v${i} }`).join('\n')
      const leadingStar = Array.from({ length: 100 }, (_, i) => `1 of *${i}k`).join(' or ')
      expect(diagnosticsOf(`${many}\n    condition: ${leadingStar}`).map((d) => d.code)).toEqual([
        'limit/condition-expansion',
      ])
      // The same identifiers through patterns with a literal start test only the names starting so.
      const prefixed = Array.from({ length: 100 }, (_, i) => `1 of s${i}k*`).join(' or ')
      expect(diagnosticsOf(`${many}\n    condition: ${prefixed}`).filter((d) => d.severity === 'error')).toEqual([])
    } finally {
      setLimits(DEFAULT_LIMITS)
    }
  })
})
