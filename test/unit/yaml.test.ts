import { describe, expect, it } from 'vitest'
import { parseYaml } from '../../src/rule/yaml.js'

const src = `title: x # c
detection:
    sel:
        Image|endswith: '\\\\foo.exe'
        CommandLine:
          - a
          - "b"
    condition: sel and
       not x
---
title: y
`

describe('parseYaml positions', () => {
  const { documents, error } = parseYaml(src)
  const d = documents[0]!

  it('reads every document', () => {
    expect(error).toBeUndefined()
    expect(documents).toHaveLength(2)
    expect(documents[1]!.value).toEqual({ title: 'y' })
  })

  it('locates keys and values, 0-based', () => {
    expect(d.locate(['title'])).toMatchObject({ key: { line: 0, col: 0 }, value: { line: 0, col: 7 } })
    expect(d.locate(['detection', 'sel'])).toMatchObject({ key: { line: 2, col: 4 }, value: { line: 3, col: 8 } })
    expect(d.locate(['detection', 'sel', 'Image|endswith'])).toMatchObject({
      key: { line: 3, col: 8 },
      value: { line: 3, col: 24 },
      style: 'single',
    })
    expect(d.locate(['detection', 'sel', 'CommandLine', 1])).toMatchObject({
      value: { line: 6, col: 12 },
      style: 'double',
    })
    expect(documents[1]!.locate(['title'])).toMatchObject({ key: { line: 10, col: 0 } })
  })

  it('maps a position inside a folded plain scalar', () => {
    // "sel and not x": index 8 is the "n" of "not", on the next source line
    expect(d.inside(['detection', 'condition'], 8)).toEqual({ line: 8, col: 7 })
    expect(d.inside(['detection', 'condition'], 4)).toEqual({ line: 7, col: 19 })
  })

  it('reports syntax errors with a position', () => {
    const r = parseYaml('title: a\n  bad: [\n')
    expect(r.error?.at.line).toBeGreaterThanOrEqual(1)
    expect(r.error?.message).toMatch(/./)
  })
})
