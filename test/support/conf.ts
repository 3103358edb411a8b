/**
 * A reader of Splunk .conf files for tests, written from Splunk's description of the format, not
 * from our writer:
 * - https://docs.splunk.com/Documentation/Splunk/latest/Admin/Configurationfilestructure: a file
 *   is stanzas, each a `[stanza name]` header line followed by `setting = value` lines; settings
 *   before the first header belong to the `default` stanza;
 * - https://docs.splunk.com/Documentation/Splunk/latest/Admin/Howtoeditaconfigurationfile: `#`
 *   at the start of a line is a comment; a `#` later on a line is part of the value;
 * - a line ending in a backslash continues on the next line, the line break kept in the value (how
 *   Splunk writes multi-line searches; `btool check` rejects a continuation that is missing,
 *   github.com/splunk/vscode-extension-splunk/issues/149);
 * - names and values are trimmed of surrounding white space.
 * A stanza header that appears twice is kept twice here: Splunk merges them (a later setting wins),
 * which is the injection this reader lets a test see.
 */
export interface ConfStanza {
  readonly name: string
  readonly settings: Map<string, string>
  /** Settings written more than once in this stanza (the later one wins in Splunk). */
  readonly repeated: string[]
}

export interface ConfFile {
  readonly stanzas: ConfStanza[]
  readonly comments: string[]
  /** Lines that are neither blank, a comment, a header nor a setting. */
  readonly errors: string[]
}

export function parseConf(text: string): ConfFile {
  const physical = text.split('\n').map((l) => l.replace(/\r$/, ''))
  // Join continued lines first: a trailing backslash glues the next physical line on.
  const lines: string[] = []
  for (let i = 0; i < physical.length; i++) {
    let line = physical[i]!
    while (line.endsWith('\\') && i + 1 < physical.length) line = line.slice(0, -1) + '\n' + physical[++i]!
    lines.push(line)
  }
  const file: ConfFile = { stanzas: [], comments: [], errors: [] }
  let current: ConfStanza | undefined
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '') continue
    if (line.startsWith('#')) {
      file.comments.push(line.slice(1).trim())
      continue
    }
    const header = /^\[(.*)\]$/s.exec(line)
    if (header) {
      current = { name: header[1]!, settings: new Map(), repeated: [] }
      file.stanzas.push(current)
      continue
    }
    const eq = line.indexOf('=')
    if (eq <= 0) {
      file.errors.push(raw)
      continue
    }
    if (!current) {
      current = { name: 'default', settings: new Map(), repeated: [] }
      file.stanzas.push(current)
    }
    const key = line.slice(0, eq).trim()
    if (current.settings.has(key)) current.repeated.push(key)
    current.settings.set(key, line.slice(eq + 1).trim())
  }
  return file
}
