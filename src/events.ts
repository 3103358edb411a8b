/**
 * Events for `match`: JSON Lines, one JSON object per line, read as a stream in batches so that
 * memory stays flat in the size of the file. The file is looked at before it is opened: a
 * folder, device or socket is refused (a FIFO or `-` for stdin is a stream and is read); a line
 * longer than `limits.event-line-bytes` ends the read with a diagnostic (/dev/zero through a pipe
 * is one endless line); bytes that are not UTF-8 are a diagnostic, never U+FFFD.
 */
import { createReadStream, statSync } from 'node:fs'
import { error, type Diagnostic } from './diagnostics.js'
import { fileKind, ioDiagnostic } from './input-file.js'
import { limitKey, limits } from './limits.js'
import type { JsonEvent } from './rule/rule.js'
import { errorMessage, isMap } from './guards.js'

export interface EventBatch {
  readonly events: JsonEvent[]
  /** The 0-based line of each event in the file. */
  readonly lines: number[]
  /** The index (among all events of the file) of this batch's first event. */
  readonly first: number
  readonly diagnostics: Diagnostic[]
}

/** A batch ends after this many events or this many bytes of lines, whichever comes first. */
const BATCH_EVENTS = 4096
const BATCH_BYTES = 8 * 1024 * 1024
const MAX_LINE_ERRORS = 100

/**
 * The events of `file` ('-' for stdin), batch by batch. A batch carrying an error diagnostic is
 * the last one (the caller stops); a bad line does not stop the read, so that every bad line of
 * the file is reported at once, but its batch holds no events past the error.
 */
export async function* readEventBatches(file: string): AsyncGenerator<EventBatch> {
  if (file !== '-') {
    try {
      const st = statSync(file)
      if (!st.isFile() && !st.isFIFO()) {
        yield {
          events: [],
          lines: [],
          first: 0,
          diagnostics: [
            st.isDirectory()
              ? error('io/unreadable', `cannot read events file '${file}': EISDIR`, undefined, file)
              : error(
                  'io/not-a-file',
                  `refusing events file '${file}': it is ${fileKind(st)}, not a regular file or a pipe`,
                  undefined,
                  file,
                ),
          ],
        }
        return
      }
    } catch (e) {
      yield { events: [], lines: [], first: 0, diagnostics: [ioDiagnostic(e, file, 'events file')] }
      return
    }
  }
  const maxLine = limits().eventLineBytes
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const stream = createReadStream(file === '-' ? '' : file, file === '-' ? { fd: 0, autoClose: false } : {})
  let events: JsonEvent[] = []
  let lines: number[] = []
  let diagnostics: Diagnostic[] = []
  let first = 0
  let bytes = 0
  let line = 0
  let failed = false
  /** The pieces of the line being read (a line may span chunks). */
  let pending: Buffer[] = []
  let pendingBytes = 0
  const take = (raw: Buffer) => {
    const at = line++
    if (at === 0 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) raw = raw.subarray(3)
    if (
      (at === 0 && ((raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff))) ||
      raw.includes(0)
    ) {
      failed = true
      diagnostics.push(
        error(
          'events/utf16',
          at === 0
            ? 'the events file is UTF-16 or UTF-32 text; events are read as UTF-8 (re-save it as UTF-8)'
            : 'a NUL byte: JSON Lines text has none (is the file UTF-16?)',
          { line: at, col: 0 },
          file,
        ),
      )
      return
    }
    let s: string
    try {
      s = decoder.decode(raw).trim()
    } catch {
      failed = true
      diagnostics.push(error('events/invalid-utf8', 'the line is not valid UTF-8', { line: at, col: 0 }, file))
      return
    }
    if (s === '') return
    bytes += raw.length
    try {
      const v: unknown = JSON.parse(s)
      if (!isMap(v)) {
        failed = true
        diagnostics.push(error('events/not-an-object', 'each line must be a JSON object', { line: at, col: 0 }, file))
      } else if (!failed) {
        events.push(v)
        lines.push(at)
      }
    } catch (e) {
      failed = true
      const m = /position (\d+)/.exec(errorMessage(e))
      diagnostics.push(
        error('events/invalid-json', `invalid JSON: ${errorMessage(e)}`, { line: at, col: m ? Number(m[1]) : 0 }, file),
      )
    }
  }
  const batch = (): EventBatch => {
    const b = { events, lines, first, diagnostics }
    first += events.length
    events = []
    lines = []
    diagnostics = []
    bytes = 0
    return b
  }
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0
      for (;;) {
        const nl = chunk.indexOf(0x0a, from)
        const end = nl < 0 ? chunk.length : nl
        if (pendingBytes + (end - from) > maxLine) {
          diagnostics.push(
            error(
              'limit/event-line',
              `line ${line + 1} is longer than ${maxLine} bytes (${limitKey('eventLineBytes')} in .rulesmith.yml)`,
              { line, col: 0 },
              file,
            ),
          )
          yield batch()
          return
        }
        if (nl < 0) {
          if (from < chunk.length) {
            pending.push(chunk.subarray(from))
            pendingBytes += chunk.length - from
          }
          break
        }
        const piece = chunk.subarray(from, nl)
        take(pending.length ? Buffer.concat([...pending, piece]) : piece)
        pending = []
        pendingBytes = 0
        from = nl + 1
        if (!failed && (events.length >= BATCH_EVENTS || bytes >= BATCH_BYTES)) yield batch()
        // A file of nothing but bad lines: the first hundred say enough.
        if (diagnostics.length >= MAX_LINE_ERRORS) {
          yield batch()
          return
        }
      }
    }
    if (pendingBytes > 0) take(Buffer.concat(pending))
  } catch (e) {
    diagnostics.push(ioDiagnostic(e, file, 'events file'))
  } finally {
    stream.destroy()
  }
  yield batch()
}

/** Every event of `file`, for a command that needs them together (`rulesmith verify`). */
export async function readEvents(
  file: string,
): Promise<{ events: JsonEvent[]; lines: number[]; diagnostics: Diagnostic[] }> {
  const all: { events: JsonEvent[]; lines: number[]; diagnostics: Diagnostic[] } = {
    events: [],
    lines: [],
    diagnostics: [],
  }
  for await (const batch of readEventBatches(file)) {
    all.events.push(...batch.events)
    all.lines.push(...batch.lines)
    all.diagnostics.push(...batch.diagnostics)
  }
  return all
}
