/**
 * The Sigma condition language (spec: "Condition"): `and`, `or`, `not`, parentheses,
 * `1 of x*` / `all of x*` / `1 of them` / `all of them`. Precedence, weakest first:
 * or, and, not, `x of`, parentheses.
 *
 * A hand-written lexer and recursive-descent parser: the grammar is five rules, and chevrotain
 * (which the verifiers' grammars use) costs about 25 ms to load and set up, a fifth of a
 * `validate --no-compile` of one rule. It reads and reports exactly as the chevrotain parser it
 * replaced did, messages included (test/unit/condition.test.ts compares the two on generated
 * conditions; the former parser is test/support/condition-chevrotain.ts). Every node keeps the
 * 0-based offset of its first character in the condition text, so that errors can point inside
 * the YAML value.
 */
import { first } from '../src/guards.js'

export type Condition =
  | { readonly kind: 'and'; readonly items: readonly Condition[]; readonly offset: number }
  | { readonly kind: 'or'; readonly items: readonly Condition[]; readonly offset: number }
  | { readonly kind: 'not'; readonly item: Condition; readonly offset: number }
  /** A search identifier, by name. */
  | { readonly kind: 'ref'; readonly name: string; readonly offset: number }
  /** `1 of x`, `all of x`: `target` is `them` or a name pattern with `*` wildcards. */
  | {
      readonly kind: 'of'
      readonly quantifier: 'one' | 'all'
      readonly target: string
      readonly them: boolean
      readonly offset: number
      readonly targetOffset: number
    }

export interface ConditionError {
  readonly message: string
  /** 0-based offset into the condition text. */
  readonly offset: number
}

type Kind = 'and' | 'or' | 'not' | 'of' | 'them' | 'one' | 'all' | '(' | ')' | 'name' | 'end'
interface Token {
  readonly kind: Kind
  readonly image: string
  /** NaN for the end of the input, as chevrotain's EOF token has. */
  readonly offset: number
}

/** Characters of a search identifier (and of the keywords, which are whole words of them). */
const NAME = /[A-Za-z0-9_.\-*]/
const KEYWORDS: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['and', 'and'],
  ['or', 'or'],
  ['not', 'not'],
  ['of', 'of'],
  ['them', 'them'],
  ['1', 'one'],
  ['all', 'all'],
])
/** How each token is named in "expected …" messages. */
const LABEL: Readonly<Record<Kind, string>> = {
  and: "'and'",
  or: "'or'",
  not: "'not'",
  of: "'of'",
  them: "'them'",
  one: "'1'",
  all: "'all'",
  '(': "'('",
  ')': "')'",
  name: 'search identifier',
  end: 'EOF',
}

/**
 * The tokens, white space skipped; or the first run of characters no token starts with (as a
 * lexer that drops characters until one can start a token reports it).
 */
function lex(text: string): { tokens: Token[] } | { error: { offset: number; length: number } } {
  const tokens: Token[] = []
  const starts = (c: string) => c === '(' || c === ')' || /\s/.test(c) || NAME.test(c)
  let i = 0
  while (i < text.length) {
    const c = text.charAt(i)
    if (/\s/.test(c)) {
      i++
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, image: c, offset: i })
      i++
    } else if (NAME.test(c)) {
      let j = i + 1
      while (j < text.length && NAME.test(text.charAt(j))) j++
      const image = text.slice(i, j)
      tokens.push({ kind: KEYWORDS.get(image) ?? 'name', image, offset: i })
      i = j
    } else {
      let j = i + 1
      while (j < text.length && !starts(text.charAt(j))) j++
      return { error: { offset: i, length: j - i } }
    }
  }
  return { tokens }
}

/** A syntax error: what was expected, and the token found instead. */
class Expected extends Error {
  constructor(
    readonly expected: readonly Kind[] | 'more',
    readonly found: Token,
  ) {
    super('syntax error')
  }
}

/** The parse: or, and, not, atom (parentheses, `x of`, a name), weakest first; throws Expected. */
function parseTokens(tokens: readonly Token[]): Condition {
  let at = 0
  const END: Token = { kind: 'end', image: '', offset: NaN }
  const peek = (): Token => tokens[at] ?? END
  const consume = (kind: Kind): Token => {
    const t = peek()
    if (t.kind !== kind) throw new Expected([kind], t)
    at++
    return t
  }
  const orExpr = (): Condition => {
    const items = [andExpr()]
    while (peek().kind === 'or') {
      at++
      items.push(andExpr())
    }
    return items.length === 1 ? first(items) : { kind: 'or', items, offset: first(items).offset }
  }
  const andExpr = (): Condition => {
    const items = [notExpr()]
    while (peek().kind === 'and') {
      at++
      items.push(notExpr())
    }
    return items.length === 1 ? first(items) : { kind: 'and', items, offset: first(items).offset }
  }
  const notExpr = (): Condition => {
    const t = peek()
    switch (t.kind) {
      case 'not': {
        at++
        const item = notExpr()
        return { kind: 'not', item, offset: t.offset }
      }
      case '(': {
        at++
        const inner = orExpr()
        consume(')')
        return inner
      }
      case 'one':
      case 'all': {
        at++
        consume('of')
        const target = peek()
        if (target.kind !== 'them' && target.kind !== 'name') throw new Expected(['them', 'name'], target)
        at++
        return {
          kind: 'of',
          quantifier: t.kind,
          target: target.image,
          them: target.kind === 'them',
          offset: t.offset,
          targetOffset: target.offset,
        }
      }
      case 'name':
        at++
        return { kind: 'ref', name: t.image, offset: t.offset }
      default:
        throw new Expected(['not', '(', 'one', 'all', 'name'], t)
    }
  }
  const condition = orExpr()
  if (at < tokens.length) throw new Expected('more', peek())
  return condition
}

type Parsed = { readonly condition?: Condition; readonly errors: ConditionError[] }

// Conditions repeat across a rule set (`selection and not filter` …): parse each text once.
// The results are never mutated, so sharing them is safe.
const cache = new Map<string, Parsed>()

/** Parse a condition; on failure, the first error with its offset (lex errors win over parse errors). */
export function parseCondition(text: string): Parsed {
  let hit = cache.get(text)
  if (!hit) {
    hit = parse(text)
    if (cache.size > 10_000) cache.clear()
    cache.set(text, hit)
  }
  return hit
}

/** Deeper than any real rule, and far below what recursion on the stack (parser, AST, backends) tolerates. */
export const MAX_NESTING = 100

/** Where parentheses, or a run of `not`s, first nest deeper than MAX_NESTING. */
function tooDeep(text: string): number | undefined {
  let parens = 0
  let nots = 0
  const words = /\(|\)|[A-Za-z0-9_.\-*]+/g
  for (let m = words.exec(text); m; m = words.exec(text)) {
    if (m[0] === '(') parens++
    else if (m[0] === ')') parens--
    nots = m[0] === 'not' ? nots + 1 : m[0] === '(' ? nots : 0
    if (parens > MAX_NESTING || nots > MAX_NESTING) return m.index
  }
  return undefined
}

function parse(text: string): Parsed {
  const deep = tooDeep(text)
  if (deep !== undefined)
    return { errors: [{ message: `condition nests more than ${MAX_NESTING} levels deep`, offset: deep }] }
  const pipe = text.indexOf('|')
  if (pipe >= 0) {
    // Sigma v1 aggregations (`… | count() by x > 5`) are obsolete since v2 (spec, correlations).
    return {
      errors: [
        {
          message:
            "aggregation after '|' in the condition is obsolete Sigma (v1) syntax; express it as a correlation rule",
          offset: pipe,
        },
      ],
    }
  }
  const lexed = lex(text)
  if ('error' in lexed) {
    const e = lexed.error
    return {
      errors: [
        {
          message: `unexpected '${text.slice(e.offset, e.offset + e.length)}' in condition (conditions use and, or, not, parentheses and 1 of / all of)`,
          offset: e.offset,
        },
      ],
    }
  }
  if (lexed.tokens.length === 0) return { errors: [{ message: 'condition is empty', offset: 0 }] }
  try {
    return { condition: parseTokens(lexed.tokens), errors: [] }
  } catch (e) {
    if (!(e instanceof Expected)) throw e
    const atEnd = e.found.kind === 'end'
    const found = atEnd ? 'end of condition' : `'${e.found.image}'`
    const expected =
      e.expected === 'more'
        ? "syntax error: expected 'and', 'or' or the end of the condition"
        : `syntax error: expected ${e.expected.map((k) => LABEL[k]).join(' or ')}`
    return {
      errors: [{ message: `${expected}, found ${found}`, offset: atEnd ? text.trimEnd().length : e.found.offset }],
    }
  }
}
