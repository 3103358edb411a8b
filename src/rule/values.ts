/**
 * Sigma value decoding: escapes into patterns, and the value-transforming modifiers
 * (windash, utf16*, wide, base64, base64offset).
 */
import type { Pattern, Segment } from '../ast/nodes.js'
import { ANY, ONE, lit, normalize } from '../ast/pattern.js'
import { itemAt } from '../guards.js'

/**
 * Sigma escaping (spec, "Escaping"): `*` and `?` are wildcards; `\*`, `\?` and `\\` are the
 * literal characters; a backslash before any other character is itself literal, so
 * `C:\Windows` needs no doubling. `\\*` is a literal backslash then a wildcard.
 */
export function parsePattern(value: string): Pattern {
  // Most values have no wildcard and no backslash: one literal (none for '').
  if (!/[\\*?]/.test(value)) return value === '' ? [] : [lit(value)]
  const out: Segment[] = []
  let text = ''
  const flush = () => {
    if (text) out.push(lit(text))
    text = ''
  }
  for (let i = 0; i < value.length; i++) {
    const c = itemAt(value, i)
    if (c === '\\') {
      const next = value[i + 1]
      if (next === '*' || next === '?' || next === '\\') {
        text += next
        i++
      } else {
        text += c
      }
    } else if (c === '*') {
      flush()
      out.push(ANY)
    } else if (c === '?') {
      flush()
      out.push(ONE)
    } else {
      text += c
    }
  }
  flush()
  return normalize(out)
}

/** The dash-like characters `windash` makes interchangeable (modifiers appendix). */
export const WINDASH = ['-', '/', '\u2013', '\u2014', '\u2015'] as const

/**
 * `windash`: every permutation of the dash-like characters in the literal parts. Each place
 * holding one of them may hold any of them, independently.
 */
export function windash(pattern: Pattern, limit = 4096): Pattern[] | undefined {
  const places = pattern.reduce(
    (n, s) => n + (s.kind === 'lit' ? [...s.text].filter((c) => (WINDASH as readonly string[]).includes(c)).length : 0),
    0,
  )
  if (places === 0) return [pattern]
  if (WINDASH.length ** places > limit) return undefined
  let results: Segment[][] = [[]]
  for (const s of pattern) {
    if (s.kind !== 'lit') {
      results = results.map((r) => [...r, s])
      continue
    }
    let texts = ['']
    for (const ch of s.text) {
      texts = (WINDASH as readonly string[]).includes(ch)
        ? texts.flatMap((t) => WINDASH.map((d) => t + d))
        : texts.map((t) => t + ch)
    }
    results = results.flatMap((r) => texts.map((t) => [...r, lit(t)]))
  }
  return results.map(normalize)
}

export type Encoding = 'utf16le' | 'utf16be' | 'utf16' | 'wide'

export function encodeUtf16(text: string, encoding: Encoding): Buffer {
  const le = Buffer.from(text, 'utf16le')
  if (encoding === 'utf16le' || encoding === 'wide') return le
  const be = Buffer.from(le)
  be.swap16()
  if (encoding === 'utf16be') return be
  return Buffer.concat([Buffer.from([0xff, 0xfe]), le])
}

export function base64(bytes: Buffer): string {
  return bytes.toString('base64')
}

/**
 * `base64offset`: the three encodings of the value at byte offsets 0, 1 and 2 inside a longer
 * base64 string, with the characters that depend on the unknown neighbours cut off.
 */
export function base64Offsets(bytes: Buffer): string[] {
  const starts = [0, 2, 3]
  const ends = [0, -3, -2]
  const out: string[] = []
  for (let i = 0; i < 3; i++) {
    const encoded = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString('base64')
    const end = itemAt(ends, (bytes.length + i) % 3)
    out.push(encoded.slice(starts[i], end === 0 ? undefined : end))
  }
  return out
}

/** Bytes left unencoded after `wide` become one character per byte. */
export const bytesToText = (bytes: Buffer): string => bytes.toString('latin1')
