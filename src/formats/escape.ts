/**
 * Writing untrusted text into output files: every format helper a template inserts a field with
 * escapes it for that file's syntax, or refuses it with an UnsafeTextError. Rule metadata, file
 * names and the pipeline's settings all come from people we do not trust (a pull request), and
 * the files go into SIEMs: a line break in a `license:` must never become a new stanza.
 *
 * Line breaks: besides LF and CR, some readers end a line at VT, FF, FS/GS/RS, NEL (U+0085) and
 * U+2028/U+2029 (Python's str.splitlines, YAML 1.1 — PyYAML, which Sentinel's tooling uses — and
 * JavaScript's line terminators). Every writer here treats all of them as line breaks.
 */
import { codePointAt } from '../guards.js'

/** Characters that end a line for at least one common reader. */
export const LINE_BREAKS = /[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/
/** C0 and C1 control characters, DEL, the line and paragraph separators, BOM and the non-characters U+FFFE/U+FFFF. */
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/

/** Why a field cannot be written into a format, with what to change. */
export class UnsafeTextError extends Error {}

/**
 * The text of a template helper's argument: a string as it is, a number, boolean or bigint
 * spelled as JavaScript does, nothing for a missing value, a list as handlebars prints one (items
 * joined by commas). A mapping has no text: refused, never written as `[object Object]`.
 */
export function templateText(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (Array.isArray(value)) return value.map(templateText).join(',')
  throw new UnsafeTextError(
    `a template wrote a ${typeof value === 'object' ? 'mapping' : typeof value} where text goes`,
  )
}

/** `U+2028` for a message: which character, by code point (never the raw character). */
export function codePoint(c: string): string {
  return 'U+' + codePointAt(c, 0).toString(16).toUpperCase().padStart(4, '0')
}

/**
 * One line of display text: every run of white space and control characters (line breaks
 * included) becomes one space, and the ends are trimmed. Used where a format has no way to escape
 * (comments, .conf stanza names and plain values); the exact text goes in a JSON field beside it.
 */
export function oneLine(text: string): string {
  return text.replace(/[\s\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]+/g, ' ').trim()
}

/**
 * A JSON string, number, array or object with every character that is not plain printable text
 * escaped as \uXXXX, beyond what JSON.stringify does (it leaves DEL, C1 controls, NEL, U+2028 and
 * U+2029 raw). The result is one line that JSON, NDJSON, YAML 1.1 and 1.2 (double-quoted scalars)
 * and .conf values all read back to the same value (RFC 8259 §7; YAML 1.2.2 §5.7 escapes, §5.1
 * printable characters).
 */
export function jsonText(value: unknown): string {
  return (JSON.stringify(value ?? null) ?? 'null').replace(
    /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  )
}

// --- Splunk .conf files ------------------------------------------------------------------------
// https://docs.splunk.com/Documentation/Splunk/latest/Admin/Configurationfilestructure: a file is
// `[stanza]` headers, each followed by `setting = value` lines; `#` starts a comment line
// (https://docs.splunk.com/Documentation/Splunk/latest/Admin/Howtoeditaconfigurationfile: a `#`
// later on a line is part of the value). A value is the rest of its line with the surrounding
// white space trimmed; a line ending in a backslash continues on the next line (how Splunk writes
// multi-line searches; `btool check` reports a broken one). There is no escape character, so text
// that cannot be one plain line is folded (display text) or refused (the search, the schedule).

/** Display text for a .conf comment or value: one line, not ending in a backslash. */
export function confLine(text: string): string {
  return oneLine(text).replace(/[\s\\]+$/, '')
}

/**
 * A stanza name: one line, no brackets (a `]` would end the header early, a `[` at the start of a
 * continued line would open another), no trailing backslash. Two titles can fold to the same name:
 * the caller checks names are unique in the output (src/formats/identity.ts).
 */
export function confStanza(text: string): string {
  return confLine(text.replace(/[[\]]/g, ''))
}

/**
 * A .conf value that must be written exactly (a search, a schedule): refused when it holds a line
 * break or control character, ends in a backslash, or has white space at either end that Splunk
 * would trim.
 */
export function confValue(text: string, setting: string): string {
  const bad = UNPRINTABLE.exec(text)
  if (bad)
    throw new UnsafeTextError(
      `savedsearches.conf cannot hold ${codePoint(bad[0])} in '${setting}': a .conf value is one line with no escapes`,
    )
  if (text.endsWith('\\'))
    throw new UnsafeTextError(
      `savedsearches.conf cannot hold a '${setting}' ending in a backslash: Splunk would read the next line as part of it`,
    )
  if (text !== text.trim())
    throw new UnsafeTextError(
      `savedsearches.conf cannot hold a '${setting}' starting or ending with white space: Splunk trims it`,
    )
  return text
}

// --- Azure Resource Manager templates ------------------------------------------------------------

/**
 * A JSON string for an ARM template: a string value that starts with `[` is an ARM template
 * expression (`[concat(…)]`, `[parameters('x')]`), evaluated at deployment; a leading `[[` is the
 * escape for a literal bracket, removed on deployment
 * (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions,
 * "Escape characters"). Any other text is a plain JSON string (jsonText).
 */
export function armText(value: unknown): string {
  const text = templateText(value)
  return jsonText(text.startsWith('[') ? '[' + text : text)
}

/** A value ARM takes as a resource name segment: the rule's id, which must be a UUID. */
export function armGuid(value: unknown): string {
  const text = templateText(value)
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text))
    throw new UnsafeTextError(
      "the ARM template names the alert rule by the rule's id, and it is not a UUID: give the rule an 'id:' (a UUID)",
    )
  return text.toLowerCase()
}

// --- YAML ----------------------------------------------------------------------------------------

/**
 * A YAML scalar for multi-line text (a query): a literal block `|2-` with an explicit indentation
 * indicator (YAML 1.2.2 §8.1.1.1, so a first line starting with spaces is kept) when the block
 * reads back exactly, else a double-quoted JSON string. A block cannot hold CR, tabs-only lines are
 * fine, but a trailing line break would be stripped by `-`, and NEL/U+2028/U+2029 are line breaks
 * in YAML 1.1.
 */
export function yamlText(text: string, indent: number): string {
  const blockable =
    text.length > 0 && !text.endsWith('\n') && !/[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/.test(text)
  if (!blockable) return jsonText(text)
  const pad = ' '.repeat(indent)
  return (
    `|${indent}-\n` +
    text
      .split('\n')
      .map((l) => (l === '' ? '' : pad + l))
      .join('\n')
  )
}

// --- comments in query text --------------------------------------------------------------------

/**
 * A comment line for a target's query language, holding one line of display text. The text cannot
 * end the comment early: line breaks are folded (KQL `//`, SQL `--`), and the closing delimiter of
 * a block comment is broken up (SPL's ``` ``` ```; EQL's `/* *\/`).
 * SPL: https://docs.splunk.com/Documentation/Splunk/latest/Search/Comments ("```" opens and closes).
 * KQL: https://learn.microsoft.com/en-us/kusto/query/comment ("//" to the end of the line).
 * EQL: https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html (/* … *\/ and //).
 * SQLite: https://www.sqlite.org/lang_comment.html ("--" to the end of the line).
 */
export function queryComment(target: string, text: string): string {
  const line = oneLine(text)
  switch (target) {
    case 'spl':
      return '``` ' + line.replace(/`/g, "'") + ' ```'
    case 'kql':
      return '// ' + line
    case 'eql':
      return '/* ' + line.replace(/\*\//g, '* /') + ' */'
    case 'osquery':
      return '-- ' + line
    default:
      return '# ' + line
  }
}

// --- Markdown ------------------------------------------------------------------------------------

/** An inline code span holding `text` exactly: a fence longer than any backtick run inside (CommonMark §6.1). */
export function markdownCode(text: string): string {
  const line = oneLine(text)
  const longest = Math.max(0, ...[...line.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : ''
  return fence + pad + line + pad + fence
}

// --- output file names -------------------------------------------------------------------------

/**
 * A file name stem derived from a rule's file name: characters that are line breaks, controls, path
 * separators or not allowed in Windows file names become `_`, so a name can neither forge a line
 * in SHA256SUMS or a manifest nor escape its folder; an empty or hidden name gets a leading `_`.
 */
export function safeStem(stem: string): string {
  const cleaned = stem.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\\/:*?"<>|]/g, '_')
  return cleaned === '' || cleaned.startsWith('.') ? '_' + cleaned : cleaned
}
