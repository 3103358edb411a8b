/** A loaded, validated Sigma rule: its metadata and its detection as an AST. */
import type { Node, Pos } from '../ast/nodes.js'

export interface LogSource {
  readonly category?: string
  readonly product?: string
  readonly service?: string
  readonly definition?: string
}

export interface Rule {
  /** Path as given on the command line. */
  readonly file: string
  /** Where the rule's document starts (multi-document files hold several). */
  readonly at: Pos
  readonly id?: string
  /** Where the `id` value is, for diagnostics about it. */
  readonly idAt?: Pos
  readonly title: string
  readonly name?: string
  readonly status?: string
  readonly level?: string
  readonly description?: string
  readonly author?: string
  readonly date?: string
  readonly modified?: string
  readonly license?: string
  readonly references: readonly string[]
  readonly tags: readonly string[]
  readonly falsepositives: readonly string[]
  readonly fields: readonly string[]
  readonly logsource: LogSource
  readonly detection: Node
  /** Ids (or titles) of the global filters folded into `detection`, when any name this rule. */
  readonly filters?: readonly string[]
  /** The document as parsed from YAML, for formats that want any other key. */
  readonly raw: Readonly<Record<string, unknown>>
}

/** A JSON event: Sigma taxonomy field names at top level; dotted names reach into nested objects. */
export type JsonEvent = Readonly<Record<string, unknown>>
