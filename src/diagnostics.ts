/**
 * Diagnostics are data, returned by every stage (never thrown for user input), and printed in the
 * GNU form `path:line:col: error|warning: message [code]` that editors and CI annotate.
 */
import type { Pos } from './ast/nodes.js'
import type { DiagnosticCode } from './diagnostics/codes.js'

export type { DiagnosticCode } from './diagnostics/codes.js'

export type Severity = 'error' | 'warning'

export interface Diagnostic {
  /** `area/kebab-name`, one of the table in diagnostics/codes.ts (e.g. `target/unsupported-regex`). */
  readonly code: DiagnosticCode
  readonly severity: Severity
  readonly message: string
  readonly file?: string
  /** 0-based. */
  readonly at?: Pos
  /** The target a compile diagnostic is about. */
  readonly target?: string
}

export function error(code: DiagnosticCode, message: string, at?: Pos, file?: string): Diagnostic {
  return { code, severity: 'error', message, ...(at ? { at } : {}), ...(file ? { file } : {}) }
}

export function warning(code: DiagnosticCode, message: string, at?: Pos, file?: string): Diagnostic {
  return { code, severity: 'warning', message, ...(at ? { at } : {}), ...(file ? { file } : {}) }
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error')

/** Sort by path, line, column, then code; drop exact duplicates. */
export function sortDiagnostics(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>()
  const key = (d: Diagnostic) =>
    [
      d.file ?? '',
      String(d.at?.line ?? -1).padStart(8, '0'),
      String(d.at?.col ?? -1).padStart(8, '0'),
      d.code,
      d.message,
    ].join('\u0000')
  return [...ds]
    .sort((a, b) => {
      const fa = a.file ?? '',
        fb = b.file ?? ''
      if (fa !== fb) return fa < fb ? -1 : 1
      const la = a.at?.line ?? -1,
        lb = b.at?.line ?? -1
      if (la !== lb) return la - lb
      const ca = a.at?.col ?? -1,
        cb = b.at?.col ?? -1
      if (ca !== cb) return ca - cb
      return a.code < b.code ? -1 : a.code > b.code ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0
    })
    .filter((d) => {
      const k = key(d)
      return seen.has(k) ? false : (seen.add(k), true)
    })
}

/**
 * Control characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides,
 * written as escapes (`\n`, `\x1b`, `\u202e`): a file name or a value quoted in a message can
 * then neither break a diagnostic into two lines (forging one), nor drive the terminal (ESC, BEL),
 * nor reorder what is shown.
 */
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

export function escapeControls(text: string, keep = ''): string {
  return text.replace(UNPRINTABLE, (c) => {
    if (keep.includes(c)) return c
    const n = c.charCodeAt(0)
    if (n === 10) return '\\n'
    if (n === 13) return '\\r'
    return n < 0x100 ? '\\x' + n.toString(16).padStart(2, '0') : '\\u' + n.toString(16).padStart(4, '0')
  })
}

/** `path:line:col: severity: message [code]`, 1-based; always one line. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${escapeControls(d.file ?? '<input>')}:${(d.at?.line ?? 0) + 1}:${(d.at?.col ?? 0) + 1}`
  // A message carrying line breaks (a parser's snippet) is folded; anything else unprintable escaped.
  return `${where}: ${d.severity}: ${escapeControls(d.message.replace(/\s*\n\s*/g, ' '))} [${d.code}]`
}
