/** Events for `match` and `test`: JSON Lines, one JSON object per line. */
import { readFileSync } from 'node:fs'
import { error, type Diagnostic } from './diagnostics.js'
import type { JsonEvent } from './rule/rule.js'

export function readEvents(file: string): { events: JsonEvent[]; lines: number[]; diagnostics: Diagnostic[] } {
  let text: string
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
  } catch (e) {
    return {
      events: [],
      lines: [],
      diagnostics: [
        error(
          'io/unreadable',
          `cannot read events file '${file}': ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
          undefined,
          file,
        ),
      ],
    }
  }
  return parseEvents(text, file)
}

/**
 * Parse JSON Lines. Blank lines are skipped but still count, so `event` indexes in `match`
 * output are line numbers (0-based) of the file.
 */
export function parseEvents(
  text: string,
  file: string,
): { events: JsonEvent[]; lines: number[]; diagnostics: Diagnostic[] } {
  const events: JsonEvent[] = []
  const lines: number[] = []
  const diagnostics: Diagnostic[] = []
  text.split('\n').forEach((raw, line) => {
    const s = raw.trim()
    if (s === '') return
    try {
      const v: unknown = JSON.parse(s)
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        diagnostics.push(error('events/not-an-object', 'each line must be a JSON object', { line, col: 0 }, file))
      else {
        events.push(v as JsonEvent)
        lines.push(line)
      }
    } catch (e) {
      const m = /position (\d+)/.exec((e as Error).message)
      diagnostics.push(
        error(
          'events/invalid-json',
          `invalid JSON: ${(e as Error).message}`,
          { line, col: m ? Number(m[1]) : 0 },
          file,
        ),
      )
    }
  })
  return { events, lines, diagnostics }
}
