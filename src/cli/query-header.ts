/**
 * The header `rulesmith compile` prints above each query on stdout, so a page of queries says
 * which is which: rule id, title, file, target. It is written in the target's own comment syntax,
 * so the text still runs when pasted whole into the SIEM:
 *
 * - SPL: ```…``` anywhere in a search, replaced by a space when the search runs
 *   (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/using-the-search-app/add-comments-to-searches);
 * - KQL: `//` to the end of the line (https://learn.microsoft.com/en-us/kusto/query/comment);
 * - EQL: `//` to the end of the line (Elasticsearch's grammar, EqlBase.g4: LINE_COMMENT
 *   `'//' ~[\r\n]*`);
 * - SQLite: `--` to the end of the line (https://www.sqlite.org/lang_comment.html).
 * The other formats (savedsearches.conf, Sentinel YAML, JSON, NDJSON) are whole files that name
 * their rule themselves: no header.
 *
 * Titles and file names come from rule authors and are untrusted: a value that is not plain
 * (letters, digits, `._/:@+-`) is written as a JSON string with every line break, control
 * character and backtick escaped (\n, \u0060…), so no value can end its comment line or its
 * ``` pair and put text of its own into the query.
 */

export type CommentStyle = 'spl' | 'line-slash' | 'line-dash'

/** How a query file with this extension writes a comment line; none for the other formats. */
export function commentStyleFor(extension: string): CommentStyle | undefined {
  switch (extension) {
    case 'spl':
      return 'spl'
    case 'kql':
    case 'eql':
      return 'line-slash'
    case 'sql':
      return 'line-dash'
    default:
      return undefined
  }
}

const PLAIN = /^[A-Za-z0-9._/:@+-]+$/

/** A value as it appears in a header: bare when plain, else a fully escaped JSON string. */
export function headerValue(value: string): string {
  if (PLAIN.test(value)) return value
  return JSON.stringify(value).replace(
    // JSON.stringify leaves these raw; each is a line break or invisible somewhere.
    /[`\x7f-\x9f\u00ad\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  )
}

/** The header lines, each a complete comment, ending with a line break. */
export function queryHeader(style: CommentStyle, fields: readonly (readonly [string, string])[]): string {
  const lines = fields.map(([label, value]) => `${label}: ${headerValue(value)}`)
  switch (style) {
    case 'spl':
      return lines.map((l) => '``` ' + l + ' ```\n').join('')
    case 'line-slash':
      return lines.map((l) => `// ${l}\n`).join('')
    case 'line-dash':
      return lines.map((l) => `-- ${l}\n`).join('')
  }
}
