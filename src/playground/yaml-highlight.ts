/**
 * The editor's highlighting: the textarea's text drawn again, coloured, in a <pre> behind it (the
 * textarea's own text is transparent). Line-based and deliberately small: comments, keys, quoted
 * strings, list dashes, plus the diagnostics' marks at their line and column. Every character of
 * the rule is escaped: the rule is untrusted input.
 */
import { itemAt } from '../guards.js'
export interface Mark {
  /** 0-based, as the library reports positions. */
  readonly line: number
  readonly col: number
  readonly severity: 'error' | 'warning' | 'info'
  readonly message: string
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => itemAt({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }, c))

interface Span {
  readonly from: number
  readonly to: number
  readonly cls: string
}

/** Syntax spans of one line, in order and not overlapping. */
function syntaxSpans(line: string): Span[] {
  const spans: Span[] = []
  const key = /^(\s*(?:-\s+)?)([^\s#'"{}[\],&*!|>%@`][^:#]*?|'[^']*'|"[^"]*")(\s*:)(?=\s|$)/.exec(line)
  let i = 0
  if (key) {
    const dash = itemAt(key, 1).indexOf('-')
    if (dash >= 0) spans.push({ from: dash, to: dash + 1, cls: 'y-dash' })
    spans.push({ from: itemAt(key, 1).length, to: itemAt(key, 1).length + itemAt(key, 2).length, cls: 'y-key' })
    i = key[0].length
  } else {
    const dash = /^(\s*)-(\s|$)/.exec(line)
    if (dash) {
      spans.push({ from: itemAt(dash, 1).length, to: itemAt(dash, 1).length + 1, cls: 'y-dash' })
      i = dash[0].length
    }
  }
  // Quoted strings and a trailing comment in the rest of the line.
  while (i < line.length) {
    const c = itemAt(line, i)
    if (c === '#' && (i === 0 || /\s/.test(itemAt(line, i - 1)))) {
      spans.push({ from: i, to: line.length, cls: 'y-comment' })
      break
    }
    if (c === '"' || c === "'") {
      let j = i + 1
      while (j < line.length) {
        if (c === '"' && line[j] === '\\') j += 2
        else if (line[j] === c) {
          if (c === "'" && line[j + 1] === "'") j += 2
          else break
        } else j++
      }
      spans.push({ from: i, to: Math.min(j + 1, line.length), cls: 'y-string' })
      i = j + 1
      continue
    }
    i++
  }
  return spans
}

/** Where a diagnostic's underline ends: the token that starts at its column (at least one character). */
function markEnd(line: string, col: number): number {
  let end = col
  while (end < line.length && !/[\s:,]/.test(itemAt(line, end))) end++
  return Math.max(end, col + 1)
}

/** The <pre>'s HTML for `text` with `marks` underlined. */
export function highlight(text: string, marks: readonly Mark[]): string {
  const byLine = new Map<number, Mark[]>()
  for (const m of marks) byLine.set(m.line, [...(byLine.get(m.line) ?? []), m])
  return (
    text
      .split('\n')
      .map((line, n) => {
        const spans = syntaxSpans(line)
        const all = byLine.get(n) ?? []
        const lineMarks = all
          .filter((m) => m.col < line.length)
          .map((m) => ({ from: m.col, to: Math.min(markEnd(line, m.col), line.length), m }))
        const past = all.find((m) => m.col >= line.length)
        // Walk the characters once, opening and closing span and mark elements at their bounds.
        const cuts = new Set<number>([0, line.length])
        for (const s of spans) cuts.add(s.from).add(s.to)
        for (const m of lineMarks) cuts.add(m.from).add(m.to)
        const points = [...cuts].sort((a, b) => a - b)
        let html = ''
        for (let k = 0; k + 1 < points.length; k++) {
          const from = itemAt(points, k)
          const to = itemAt(points, k + 1)
          let piece = escapeHtml(line.slice(from, to))
          const syntax = spans.find((s) => s.from <= from && to <= s.to)
          if (syntax) piece = `<span class="${syntax.cls}">${piece}</span>`
          const mark = lineMarks.find((x) => x.from <= from && to <= x.to)
          if (mark)
            piece = `<mark class="diag diag-${mark.m.severity}" data-line="${n + 1}" data-col="${mark.m.col + 1}" title="${escapeHtml(mark.m.message)}">${piece}</mark>`
          html += piece
        }
        // A mark past the end of its line (a missing value) still shows: one underlined space.
        if (past)
          html += `<mark class="diag diag-${past.severity}" data-line="${n + 1}" data-col="${past.col + 1}" title="${escapeHtml(past.message)}"> </mark>`
        return html
      })
      .join('\n') + '\n'
  )
}
