/**
 * The Sigma condition language (spec: "Condition"): `and`, `or`, `not`, parentheses,
 * `1 of x*` / `all of x*` / `1 of them` / `all of them`. Precedence, weakest first:
 * or, and, not, `x of`, parentheses.
 *
 * An embedded-actions chevrotain parser: the grammar builds the small condition tree directly.
 * Every node keeps the 0-based offset of its first character in the condition text, so that
 * errors can point inside the YAML value.
 */
import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js'
import { first, must } from '../src/guards.js'

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

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED })
const Name = createToken({ name: 'Name', pattern: /[A-Za-z0-9_.\-*]+/, label: 'search identifier' })
const word = (name: string, text: string): TokenType =>
  createToken({ name, pattern: new RegExp(`${text}(?![A-Za-z0-9_.\\-*])`), longer_alt: Name, label: `'${text}'` })
const And = word('And', 'and')
const Or = word('Or', 'or')
const Not = word('Not', 'not')
const Of = word('Of', 'of')
const Them = word('Them', 'them')
const One = word('One', '1')
const All = word('All', 'all')
const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" })
const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" })

const tokens = [WhiteSpace, LParen, RParen, And, Or, Not, Of, Them, One, All, Name]
const lexer = new Lexer(tokens, { positionTracking: 'onlyOffset', ensureOptimizations: false })

class ConditionParser extends EmbeddedActionsParser {
  constructor() {
    super(tokens, { recoveryEnabled: false })
    this.performSelfAnalysis()
  }

  public readonly condition = this.RULE('condition', (): Condition => this.SUBRULE(this.orExpr))

  private readonly orExpr = this.RULE('orExpr', (): Condition => {
    const items: Condition[] = [this.SUBRULE(this.andExpr)]
    this.MANY(() => {
      this.CONSUME(Or)
      items.push(this.SUBRULE2(this.andExpr))
    })
    return items.length === 1 ? first(items) : { kind: 'or', items, offset: first(items).offset }
  })

  private readonly andExpr = this.RULE('andExpr', (): Condition => {
    const items: Condition[] = [this.SUBRULE(this.notExpr)]
    this.MANY(() => {
      this.CONSUME(And)
      items.push(this.SUBRULE2(this.notExpr))
    })
    return items.length === 1 ? first(items) : { kind: 'and', items, offset: first(items).offset }
  })

  private readonly notExpr = this.RULE('notExpr', (): Condition =>
    this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(Not)
          const item = this.SUBRULE(this.notExpr)
          return { kind: 'not', item, offset: t.startOffset } as Condition
        },
      },
      { ALT: () => this.SUBRULE(this.atom) },
    ]),
  )

  private readonly atom = this.RULE('atom', (): Condition =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen)
          const inner = this.SUBRULE(this.orExpr)
          this.CONSUME(RParen)
          return inner
        },
      },
      { ALT: () => this.SUBRULE(this.quantified) },
      {
        ALT: () => {
          const t = this.CONSUME(Name)
          return { kind: 'ref', name: t.image, offset: t.startOffset } as Condition
        },
      },
    ]),
  )

  private readonly quantified = this.RULE('quantified', (): Condition => {
    const q: IToken = this.OR([{ ALT: () => this.CONSUME(One) }, { ALT: () => this.CONSUME(All) }])
    this.CONSUME(Of)
    const target: IToken = this.OR2([{ ALT: () => this.CONSUME(Them) }, { ALT: () => this.CONSUME(Name) }])
    return {
      kind: 'of',
      quantifier: q.tokenType === One ? 'one' : 'all',
      target: target.image,
      them: target.tokenType === Them,
      offset: q.startOffset,
      targetOffset: target.startOffset,
    } as Condition
  })
}

let parser: ConditionParser | undefined

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
  parser ??= new ConditionParser()
  const lexed = lexer.tokenize(text)
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
  if (lexed.errors.length > 0) {
    const e = first(lexed.errors)
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
  parser.input = lexed.tokens
  const condition = parser.condition()
  if (parser.errors.length > 0) {
    const e = first(parser.errors)
    const tok = e.token
    const atEnd = tok.tokenType.name === 'EOF' || Number.isNaN(tok.startOffset)
    const found = atEnd ? 'end of condition' : `'${tok.image}'`
    const expected =
      e.name === 'NotAllInputParsedException'
        ? "syntax error: expected 'and', 'or' or the end of the condition"
        : describeExpected(e.message)
    return {
      errors: [{ message: `${expected}, found ${found}`, offset: atEnd ? text.trimEnd().length : tok.startOffset }],
    }
  }
  return { condition, errors: [] }
}

/** Chevrotain's messages list every token sequence; keep the first token of each, by label. */
function describeExpected(message: string): string {
  // MismatchedTokenException: "Expecting --> ')' <-- but found …" (the token's label).
  const single = /Expecting (?:token of type )?--> (.+?) <--/.exec(message)
  if (single) return `syntax error: expected ${single[1]}`
  const expecting = message.split(/but found/)[0] ?? ''
  const labels = [...expecting.matchAll(/\[([^\]\n]+)\]/g)].map((m) =>
    first(must(m[1], 'the group matched').split(', ')),
  )
  const firsts = [...new Set(labels)].filter((l) => l !== 'EOF').slice(0, 6)
  return firsts.length > 0 ? `syntax error: expected ${firsts.join(' or ')}` : 'syntax error'
}
