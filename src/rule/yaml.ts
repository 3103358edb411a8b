/**
 * YAML → plain values plus the source position of every key and value, so that every later
 * diagnostic can say `path:line:col`.
 *
 * js-yaml 4 was measured against js-yaml 5's `parseEvents` on the SigmaHQ corpus (4,039 files):
 * about 160–230 ms against 370–520 ms, so we use 4 and its `listener` hook, which reports each
 * node's `open` (position before the node) and `close` (the built value). Nesting the two
 * gives a tree of built nodes that we walk beside the value.
 */
import yaml from 'js-yaml'
import type { Pos } from '../ast/nodes.js'
import { limitKey as limitName } from '../limits.js'
import { errorMessage, first, itemAt, must } from '../guards.js'

/** A JSON-pointer-like path: keys and indexes from the document root. */
export type Path = readonly (string | number)[]

export interface Located {
  /** Start of the value (for a scalar: its first character, quote included). */
  readonly value: Pos
  /** Start of the key, for mapping entries. */
  readonly key?: Pos
  /** Offset of the value in the file and how the scalar was written, for positions inside it. */
  readonly offset: number
  readonly style?: 'plain' | 'single' | 'double' | 'literal' | 'folded'
}

export interface YamlDocument {
  readonly value: unknown
  /** Start of the document's root node. */
  readonly at: Pos
  locate(path: Path): Located | undefined
  /** Just the start of the value (or of its key), as `locate(path)?.value` (`?.key`) gives it. */
  pos(path: Path, which: 'key' | 'value'): Pos | undefined
  /** Position of a character inside a string scalar (`index` into its decoded value). */
  inside(path: Path, index: number): Pos | undefined
  /**
   * The text of a plain (unquoted) scalar as written in the file, e.g. `00000429` where the value
   * is the number 429; undefined for quoted, block and collection nodes.
   */
  plainText(path: Path): string | undefined
}

export interface YamlError {
  readonly message: string
  readonly at: Pos
  /** `yaml/syntax` unless a limit stopped the parse. */
  readonly code?: 'limit/documents' | 'limit/alias-expansion'
}

/** Thrown from js-yaml's per-document callback to stop at the document limit. */
class TooManyDocuments extends Error {}

interface Built {
  start: number
  end: number
  kind: string | null
  result: unknown
  /** NO_CHILDREN until the first child closes: most nodes are scalars and never get one. */
  children: Built[]
}

/** The children of a node without any; shared, never added to. */
const NO_CHILDREN: Built[] = []

export class LineIndex {
  private readonly starts: number[] = [0]
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1)
  }
  pos(offset: number): Pos {
    let lo = 0,
      hi = this.starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (itemAt(this.starts, mid) <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo, col: offset - itemAt(this.starts, lo) }
  }
}

/** Skip white space and comments: js-yaml opens a node before the separation space. */
function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++
    } else return i
  }
}

function styleAt(text: string, i: number): Located['style'] {
  switch (text[i]) {
    case "'":
      return 'single'
    case '"':
      return 'double'
    case '|':
      return 'literal'
    case '>':
      return 'folded'
    default:
      return 'plain'
  }
}

/** Collapse js-yaml's nested open/close pairs that wrap one and the same value. */
function collapse(node: Built): Built {
  let n = node
  while (n.children.length === 1 && first(n.children).result === n.result && first(n.children).kind === n.kind)
    n = first(n.children)
  const children = n.children
  for (let i = 0; i < children.length; i++) children[i] = collapse(itemAt(children, i))
  if (node.start > n.start) n.start = node.start
  return n
}

/**
 * Parse every document of `text`. Limits (src/limits.ts): at most `maxDocuments` documents (the
 * parse stops at the next one), and each document at most `maxNodes` nodes once its aliases are
 * expanded — js-yaml shares an aliased node rather than copying it, so a small file can stand for
 * an exponentially large value, which everything after the parse would walk.
 */
export function parseYaml(
  text: string,
  bounds: { maxDocuments?: number; maxNodes?: number } = {},
): { documents: YamlDocument[]; error?: YamlError } {
  const lines = new LineIndex(text)
  const roots: Built[] = []
  const stack: Built[] = []
  const values: unknown[] = []
  const maxDocuments = bounds.maxDocuments ?? Infinity
  try {
    yaml.loadAll(
      text,
      (doc) => {
        if (values.length >= maxDocuments) throw new TooManyDocuments()
        values.push(doc)
      },
      {
        // The core schema: `date: 2024-01-02` stays a string (YAML 1.1 timestamps are not Sigma's).
        schema: yaml.CORE_SCHEMA,
        listener(event, state) {
          if (event === 'open') {
            stack.push({ start: state.position, end: -1, kind: null, result: undefined, children: NO_CHILDREN })
          } else {
            const node = stack.pop()
            if (!node) return
            node.end = state.position
            node.kind = state.kind
            node.result = state.result
            const parent = stack[stack.length - 1]
            if (!parent) roots.push(node)
            else if (parent.children === NO_CHILDREN) parent.children = [node]
            else parent.children.push(node)
          }
        },
      },
    )
  } catch (e) {
    if (e instanceof TooManyDocuments) {
      // Reported at the `---` that starts the first document over the limit.
      const markers = [...text.matchAll(/^---/gm)].map((m) => m.index)
      const at = markers[/^\s*---/.test(text) ? maxDocuments : maxDocuments - 1] ?? 0
      return {
        documents: [],
        error: {
          code: 'limit/documents',
          message: `the file holds more than ${maxDocuments} YAML documents (${limitName('documents')} in .rulesmith.yml)`,
          at: lines.pos(at),
        },
      }
    }
    const syntax = e instanceof yaml.YAMLException ? e : undefined
    const at = syntax?.mark ? { line: syntax.mark.line, col: syntax.mark.column } : { line: 0, col: 0 }
    const message = (syntax?.reason ?? errorMessage(e)).replace(/\s+/g, ' ').trim()
    return { documents: [], error: { message, at } }
  }
  // One root per non-empty document, in order; empty documents (a trailing `---`) have none.
  const built = roots.map(collapse)
  const documents: YamlDocument[] = []
  let r = 0
  const maxNodes = bounds.maxNodes ?? Infinity
  // An alias needs an anchor (`&name`; js-yaml refuses an alias to none): text without `&` shares
  // no node, and expandedSize would walk every value only to answer 0.
  const mayShare = text.includes('&')
  for (const value of values) {
    const root = value === null || value === undefined ? undefined : built[r++]
    const doc = makeDocument(text, lines, value, root)
    const size = mayShare ? expandedSize(value, maxNodes) : 0
    if (size > maxNodes)
      return {
        documents: [],
        error: {
          code: 'limit/alias-expansion',
          message: `a document expands to more than ${maxNodes} nodes through YAML aliases (*name) (${limitName('aliasExpansion')} in .rulesmith.yml)`,
          at: firstAlias(text, root) ?? doc.at,
        },
      }
    documents.push(doc)
  }
  return { documents }
}

/**
 * The number of nodes in `value` with every shared (aliased) node counted each time it is used,
 * stopping once over `max`; 0 for a document without aliases. Sizes are memoised per object, so the walk visits each distinct node
 * once however often it is reused.
 */
function expandedSize(value: unknown, max: number): number {
  const memo = new Map<object, number>()
  let shared = false
  const size = (v: unknown): number => {
    if (v === null || typeof v !== 'object') return 1
    const known = memo.get(v)
    if (known !== undefined) {
      shared = true
      return known
    }
    memo.set(v, max + 1) // a cycle (an alias inside its own anchor) counts as over the limit
    let n = 1
    for (const c of Array.isArray(v) ? v : Object.values(v)) {
      n += size(c)
      if (n > max) break
    }
    memo.set(v, n)
    return n
  }
  const n = size(value)
  // Without aliases the size is the written text's, which the file-size limit already bounds.
  return shared ? n : 0
}

/** Where the first alias of the document is written, for the expansion diagnostic. */
function firstAlias(text: string, root: Built | undefined): Pos | undefined {
  if (!root) return undefined
  const m = /(^|[\s[{,:-])\*[^\s,\]}]+/m.exec(text.slice(root.start, root.end))
  if (!m) return undefined
  return new LineIndex(text).pos(root.start + m.index + must(m[1], 'the group matched').length)
}

/** Positions of one node and, for collections, of its children by key or index. */
interface PosTree {
  value: number
  key?: number
  children?: Map<string | number, PosTree>
  /** The built node, walked on first use: most positions are never asked for. */
  node?: Built
}

function makeDocument(text: string, lines: LineIndex, value: unknown, root: Built | undefined): YamlDocument {
  const expand = (t: PosTree): Map<string | number, PosTree> => {
    if (t.children) return t.children
    const children = new Map<string | number, PosTree>()
    const node = t.node
    if (node?.kind === 'mapping') {
      for (let i = 0; i + 1 < node.children.length; i += 2) {
        const k = itemAt(node.children, i)
        const v = itemAt(node.children, i + 1)
        children.set(String(k.result), { value: skipSpace(text, v.start), key: skipSpace(text, k.start), node: v })
      }
    } else if (node?.kind === 'sequence') {
      node.children.forEach((c, i) => children.set(i, { value: skipSpace(text, c.start), node: c }))
    }
    t.children = children
    return children
  }
  const tree: PosTree | undefined = root ? { value: skipSpace(text, root.start), node: root } : undefined
  const find = (path: Path): PosTree | undefined => {
    let t = tree
    for (const part of path) {
      if (!t) return undefined
      t = expand(t).get(part)
    }
    return t
  }
  const locate = (path: Path): Located | undefined => {
    const t = find(path)
    if (!t) return undefined
    return {
      value: lines.pos(t.value),
      ...(t.key !== undefined ? { key: lines.pos(t.key) } : {}),
      offset: t.value,
      style: styleAt(text, t.value),
    }
  }
  return {
    value,
    at: lines.pos(tree?.value ?? 0),
    locate,
    pos(path, which) {
      const t = find(path)
      if (!t) return undefined
      return lines.pos(which === 'key' ? (t.key ?? t.value) : t.value)
    },
    inside(path, index) {
      const loc = locate(path)
      if (!loc) return undefined
      return lines.pos(offsetInside(text, loc.offset, loc.style ?? 'plain', index))
    },
    plainText(path) {
      const t = find(path)
      if (!t?.node || t.node.kind !== 'scalar' || styleAt(text, t.value) !== 'plain') return undefined
      // js-yaml closes a plain scalar where it ends; trailing blanks before a comment stay out.
      return text.slice(t.value, t.node.end).trimEnd()
    },
  }
}

/**
 * Map an index into a scalar's decoded text to a file offset, by walking the source beside it:
 * quotes and block indicators are skipped, and a folded line break (one space in the value)
 * stands for the whole run of white space in the source.
 */
function offsetInside(text: string, start: number, style: NonNullable<Located['style']>, index: number): number {
  let i = start
  if (style === 'single' || style === 'double') i++
  if (style === 'literal' || style === 'folded') {
    while (i < text.length && text[i] !== '\n') i++
    i = skipSpace(text, i)
  }
  for (let j = 0; j < index && i < text.length; j++) {
    const c = text[i]
    if (c === '\n' || c === '\r') {
      i = skipSpace(text, i)
      continue
    }
    if (style === 'double' && c === '\\') i += 2
    else if (style === 'single' && c === "'" && text[i + 1] === "'") i += 2
    else i++
  }
  return i
}
