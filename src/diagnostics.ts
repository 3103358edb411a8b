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
    .filter((d) => (seen.has(key(d)) ? false : (seen.add(key(d)), true)))
}

/** `path:line:col: severity: message [code]`, 1-based. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file ?? '<input>'}:${(d.at?.line ?? 0) + 1}:${(d.at?.col ?? 0) + 1}`
  // One diagnostic, one line: a message carrying line breaks (a parser's snippet) is folded.
  return `${where}: ${d.severity}: ${d.message.replace(/\s*\n\s*/g, ' ')} [${d.code}]`
}
