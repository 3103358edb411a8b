/**
 * The SQLite dialect osquery runs, as data and small lowering helpers: string literals, LIKE and
 * GLOB patterns. Regexes for `regex_match`: src/regex/std-regex.ts.
 */
import type { Pattern } from '../ast/nodes.js'

/**
 * A SQL string literal: single quotes, a quote doubled, backslash an ordinary character.
 * https://sqlite.org/lang_expr.html#literal_values_constants_
 */
export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`

/**
 * Text SQLite cannot carry in a literal the way JavaScript holds it: NUL ends a C string in
 * sqlite3_prepare, and a lone surrogate has no UTF-8 form. Returns what is wrong, or undefined.
 */
export function literalProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character'
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
    return 'a lone UTF-16 surrogate'
  return undefined
}

/**
 * LIKE: `%` any run, `_` exactly one character, ASCII letters fold, everything else exact; the
 * ESCAPE character makes the next `%`, `_` or itself literal. The ESCAPE clause is added only when
 * the text holds a `%` or `_` (then every backslash is doubled); without it a backslash is an
 * ordinary character, so Windows paths stay readable.
 * https://sqlite.org/lang_expr.html#the_like_glob_regexp_match_and_extract_operators
 */
export function likePattern(pattern: Pattern): { text: string; escape: boolean } {
  const escape = pattern.some((s) => s.kind === 'lit' && /[%_]/.test(s.text))
  const text = pattern
    .map((s) => (s.kind === 'any' ? '%' : s.kind === 'one' ? '_' : escape ? s.text.replace(/[%_\\]/g, '\\$&') : s.text))
    .join('')
  return { text, escape }
}

/**
 * GLOB: `*`, `?`, `[...]`; always case-sensitive, no ESCAPE clause: a literal `*`, `?` or `[` is
 * written as a one-character class. https://sqlite.org/lang_expr.html#glob
 */
export function globPattern(pattern: Pattern): string {
  return pattern
    .map((s) => (s.kind === 'any' ? '*' : s.kind === 'one' ? '?' : s.text.replace(/[*?[]/g, '[$&]')))
    .join('')
}
