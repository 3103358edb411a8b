/**
 * Reading one untrusted input file (a rule, a tests file, the config) as UTF-8 text, or saying
 * exactly why not. The file is looked at (stat) before it is opened: a FIFO would block the
 * open and the read forever and a device such as /dev/zero never ends, so anything but a regular
 * file is refused unopened; a file over the size limit is refused unread. Bytes that are not
 * UTF-8 are a diagnostic at their position, never silently U+FFFD; UTF-16 is recognised as such.
 */
import * as fs from 'node:fs'
import type { Stats } from 'node:fs'
import { error, type Diagnostic } from './diagnostics.js'
import { limitKey, limits } from './limits.js'
import { errnoCode, errorMessage } from './guards.js'

export type InputText = { readonly text: string } | { readonly diagnostic: Diagnostic }

/** What kind of thing a non-regular file is, for the message. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder'
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

/** The diagnostic for a failed stat/open/read, by its errno code. */
export function ioDiagnostic(e: unknown, file: string, what = ''): Diagnostic {
  const code = errnoCode(e)
  const it = `${what ? what + ' ' : ''}'${file}'`
  switch (code) {
    case 'ELOOP':
      return error('io/symlink-loop', `cannot read ${it}: a loop of symbolic links`, undefined, file)
    case 'ENOENT':
      return error('io/unreadable', `cannot read ${it}: no such file or folder`, undefined, file)
    case 'EACCES':
    case 'EPERM':
      return error('io/unreadable', `cannot read ${it}: permission denied (${code})`, undefined, file)
    case 'ENOTDIR':
      return error('io/unreadable', `cannot read ${it}: a part of the path is not a folder`, undefined, file)
    case 'ENAMETOOLONG':
      return error('io/unreadable', `cannot read ${it}: the name is too long`, undefined, file)
    default:
      return error('io/unreadable', `cannot read ${it}: ${code ?? errorMessage(e)}`, undefined, file)
  }
}

/** Read `file` (what: 'rule file', 'tests file', 'config') within the limits, as UTF-8. */
export function readInputFile(file: string, what: string): InputText {
  // The browser playground's virtual file system has no descriptors; it holds embedded files only.
  if (typeof (fs as { openSync?: unknown }).openSync !== 'function') {
    try {
      return { text: fs.readFileSync(file, 'utf8') }
    } catch (e) {
      return { diagnostic: ioDiagnostic(e, file, what) }
    }
  }
  let st: Stats
  try {
    st = fs.statSync(file)
  } catch (e) {
    return { diagnostic: ioDiagnostic(e, file, what) }
  }
  if (st.isDirectory())
    return { diagnostic: error('io/unreadable', `cannot read ${what} '${file}': EISDIR`, undefined, file) }
  if (!st.isFile())
    return {
      diagnostic: error(
        'io/not-a-file',
        `refusing ${what} '${file}': it is ${fileKind(st)}, not a regular file`,
        undefined,
        file,
      ),
    }
  const max = limits().fileBytes
  const tooBig = (size: number): InputText => ({
    diagnostic: error(
      'limit/file-bytes',
      `${what} '${file}' is ${size} bytes, over the limit of ${max} (${limitKey('fileBytes')} in .rulesmith.yml)`,
      undefined,
      file,
    ),
  })
  if (st.size > max) return tooBig(st.size)
  let bytes: Buffer
  let fd: number | undefined
  try {
    // O_NONBLOCK: if the file was swapped for a FIFO since the stat, the open does not block.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0))
    const again = fs.fstatSync(fd)
    if (!again.isFile())
      return {
        diagnostic: error(
          'io/not-a-file',
          `refusing ${what} '${file}': it is ${fileKind(again)}, not a regular file`,
          undefined,
          file,
        ),
      }
    // Read at most one byte over the limit: a file that grows while read is still bounded.
    const buf = Buffer.allocUnsafe(Math.min(max + 1, Math.max(again.size, 0) + 1))
    let got = 0
    for (;;) {
      if (got === buf.length) break
      const n = fs.readSync(fd, buf, got, buf.length - got, null)
      if (n === 0) break
      got += n
    }
    if (got > max) return tooBig(got)
    bytes = buf.subarray(0, got)
  } catch (e) {
    return { diagnostic: ioDiagnostic(e, file, what) }
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
  return decodeInput(bytes, file, what)
}

/**
 * Bytes → text: a UTF-8 byte-order mark is dropped; UTF-16 or UTF-32 (by its byte-order mark, or
 * by the zero bytes that ASCII text has in those encodings) is `io/utf16`; bytes that are not
 * UTF-8 are `io/invalid-utf8` at the first of them.
 */
export function decodeInput(bytes: Buffer, file: string, what: string): InputText {
  let b = bytes
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3)
  const wide =
    (b[0] === 0xff && b[1] === 0xfe) ||
    (b[0] === 0xfe && b[1] === 0xff) ||
    (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) ||
    (b.length >= 4 &&
      ((b[0] !== 0 && b[1] === 0 && b[2] !== 0 && b[3] === 0) ||
        (b[0] === 0 && b[1] !== 0 && b[2] === 0 && b[3] !== 0)))
  if (wide)
    return {
      diagnostic: error(
        'io/utf16',
        `${what} '${file}' is UTF-16 or UTF-32 text; rulesmith reads UTF-8 (re-save it as UTF-8)`,
        { line: 0, col: 0 },
        file,
      ),
    }
  const text = utf8Text(b)
  if (text === undefined) {
    const at = firstInvalidUtf8(b)
    const lineStart = b.lastIndexOf(0x0a, at - 1) + 1
    let line = 0
    for (let i = 0; i < lineStart; i++) if (b[i] === 0x0a) line++
    const col = b.subarray(lineStart, at).toString('utf8').length
    const shown = [...b.subarray(at, Math.min(at + 4, b.length))].map((x) =>
      x.toString(16).toUpperCase().padStart(2, '0'),
    )
    return {
      diagnostic: error(
        'io/invalid-utf8',
        `${what} '${file}' is not valid UTF-8: bytes ${shown.join(' ')} at byte offset ${at}`,
        { line, col },
        file,
      ),
    }
  }
  return { text }
}

/**
 * One strict decoder for every file: making a TextDecoder costs more than decoding a typical rule,
 * and a decode call without `stream` starts afresh, so it carries nothing from one file to the next.
 * It also keeps the BOM it is given (ignoreBOM): decodeInput has dropped a leading one already, and
 * a second one is the text's own.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The UTF-8 text of `b`, or undefined when it is not well-formed UTF-8. */
function utf8Text(b: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(b)
  } catch {
    return undefined
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0
  while (i < b.length) {
    const c = b.readUInt8(i)
    let n = 0
    let lo = 0x80,
      hi = 0xbf
    if (c < 0x80) n = 0
    else if (c >= 0xc2 && c <= 0xdf) n = 1
    else if (c === 0xe0) [n, lo] = [2, 0xa0]
    else if (c === 0xed) [n, hi] = [2, 0x9f]
    else if (c >= 0xe1 && c <= 0xef) n = 2
    else if (c === 0xf0) [n, lo] = [3, 0x90]
    else if (c === 0xf4) [n, hi] = [3, 0x8f]
    else if (c >= 0xf1 && c <= 0xf3) n = 3
    else return i
    for (let k = 1; k <= n; k++) {
      const d = b[i + k]
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i
    }
    i += n + 1
  }
  return b.length
}
