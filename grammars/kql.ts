/**
 * The subset of KQL the kql backend emits, as a chevrotain grammar, for the verifier:
 *   Table ( | where expr | | extend name = term ( , name = term )* )+   (at least one where)
 *   expr   := and ( or and )*          and binds tighter than or
 *   and    := unary ( and unary )*
 *   unary  := not ( expr ) | ( expr ) | predicate
 *   predicate := term [ op term | (in | in~ | !in | !in~) ( literal, … ) | matches regex string ]
 *   term   := ( column | string | number | function ( term, … ) ) key*
 *   key    := . name | [ string ]        a key of a dynamic value (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic, "Dynamic object accessors")
 * String literals follow https://learn.microsoft.com/kusto/query/scalar-data-types/string: in "…" and
 * '…' only \" \' \\ \t \n are escapes (anything else is a lex error); @"…" / @'…' are verbatim with
 * the quote doubled. Operators: https://learn.microsoft.com/kusto/query/datatypes-string-operators.
 */
import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js'
import { first, itemAt } from '../src/guards.js'

export type KTerm =
  | { readonly k: 'col'; readonly name: string }
  | { readonly k: 'str'; readonly value: string }
  | { readonly k: 'num'; readonly value: number }
  | { readonly k: 'bool'; readonly value: boolean }
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly KTerm[] }
  | { readonly k: 'key'; readonly base: KTerm; readonly key: string }

export type KExpr =
  | { readonly k: 'and' | 'or'; readonly items: readonly KExpr[] }
  | { readonly k: 'not'; readonly item: KExpr }
  | { readonly k: 'binary'; readonly op: string; readonly left: KTerm; readonly right: KTerm }
  | { readonly k: 'in'; readonly op: string; readonly left: KTerm; readonly list: readonly KTerm[] }
  | { readonly k: 'regex'; readonly left: KTerm; readonly pattern: KTerm }
  | { readonly k: 'term'; readonly term: KTerm }

/** `| extend name = term, …`: columns computed from the row (https://learn.microsoft.com/kusto/query/extend-operator). */
export interface KAssign {
  readonly name: string
  readonly term: KTerm
}

export type KStage =
  { readonly k: 'where'; readonly expr: KExpr } | { readonly k: 'extend'; readonly assigns: readonly KAssign[] }

export interface KQuery {
  readonly table: string
  /** The stages in order. */
  readonly stages: readonly KStage[]
  /** The where predicates, in order. */
  readonly filters: readonly KExpr[]
}

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED })
/** `// comment` to the end of the line (https://learn.microsoft.com/kusto/query/syntax-conventions, "Comments"). */
const Comment = createToken({ name: 'Comment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED })
const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ })
const kw = (name: string, word: string): TokenType =>
  createToken({ name, pattern: new RegExp(word), longer_alt: Identifier })
const Where = kw('Where', 'where')
const Extend = kw('Extend', 'extend')
const And = kw('And', 'and')
const Or = kw('Or', 'or')
const Not = kw('Not', 'not')
const Matches = kw('Matches', 'matches')
const Regex = kw('Regex', 'regex')
/** The bool literals (https://learn.microsoft.com/kusto/query/scalar-data-types/bool). */
const BoolLit = createToken({ name: 'BoolLit', pattern: /true|false/, longer_alt: Identifier })
/** `in~` / `in`, and the negated forms: the `~` and `!` are part of the operator. */
const InOp = createToken({ name: 'InOp', pattern: /!?in~?(?![A-Za-z0-9_])/, longer_alt: Identifier })
/** contains, startswith, endswith with optional `_cs` and `!`. */
const WordOp = createToken({ name: 'WordOp', pattern: /!?(?:contains|startswith|endswith)(?:_cs)?(?![A-Za-z0-9_])/ })
const SymOp = createToken({ name: 'SymOp', pattern: /==|!=|=~|!~|<=|>=|<|>/ })
/** `=` of an extend assignment (after SymOp, whose `==` and `=~` start with it). */
const Assign = createToken({ name: 'Assign', pattern: /=/ })
const Pipe = createToken({ name: 'Pipe', pattern: /\|/ })
const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" })
const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" })
const Comma = createToken({ name: 'Comma', pattern: /,/ })
const Dot = createToken({ name: 'Dot', pattern: /\./ })
const LBracket = createToken({ name: 'LBracket', pattern: /\[/ })
const RBracket = createToken({ name: 'RBracket', pattern: /\]/ })
const Verbatim = createToken({ name: 'Verbatim', pattern: /@"(?:[^"\r\n]|"")*"|@'(?:[^'\r\n]|'')*'/ })
const Quoted = createToken({ name: 'Quoted', pattern: /"(?:[^"\\\r\n]|\\["'\\tn])*"|'(?:[^'\\\r\n]|\\["'\\tn])*'/ })
const NumberLit = createToken({ name: 'NumberLit', pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ })

const allTokens = [
  WhiteSpace,
  Comment,
  Verbatim,
  Quoted,
  NumberLit,
  WordOp,
  InOp,
  Where,
  Extend,
  And,
  Or,
  Not,
  Matches,
  Regex,
  BoolLit,
  Identifier,
  SymOp,
  Assign,
  Pipe,
  LParen,
  RParen,
  Comma,
  Dot,
  LBracket,
  RBracket,
]
const lexer = new Lexer(allTokens, { ensureOptimizations: false, positionTracking: 'onlyOffset' })

function stringValue(image: string): string {
  if (image.startsWith('@')) {
    const q = itemAt(image, 1)
    return image
      .slice(2, -1)
      .split(q + q)
      .join(q)
  }
  return image.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c))
}

class KqlParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: false })
    this.performSelfAnalysis()
  }

  query = this.RULE('query', (): KQuery => {
    const table = this.CONSUME(Identifier).image
    const stages: KStage[] = []
    this.AT_LEAST_ONE(() => {
      this.CONSUME(Pipe)
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Where)
            stages.push({ k: 'where', expr: this.SUBRULE(this.orExpr) })
          },
        },
        {
          ALT: () => {
            this.CONSUME(Extend)
            const assigns: KAssign[] = [this.SUBRULE(this.assign)]
            this.MANY(() => {
              this.CONSUME(Comma)
              assigns.push(this.SUBRULE2(this.assign))
            })
            stages.push({ k: 'extend', assigns })
          },
        },
      ])
    })
    const filters = stages.flatMap((st) => (st.k === 'where' ? [st.expr] : []))
    return { table, stages, filters }
  })

  assign = this.RULE('assign', (): KAssign => {
    const name = this.CONSUME(Identifier).image
    this.CONSUME(Assign)
    return { name, term: this.SUBRULE(this.term) }
  })

  orExpr = this.RULE('orExpr', (): KExpr => {
    const items = [this.SUBRULE(this.andExpr)]
    this.MANY(() => {
      this.CONSUME(Or)
      items.push(this.SUBRULE2(this.andExpr))
    })
    return items.length === 1 ? first(items) : { k: 'or', items }
  })

  andExpr = this.RULE('andExpr', (): KExpr => {
    const items = [this.SUBRULE(this.unary)]
    this.MANY(() => {
      this.CONSUME(And)
      items.push(this.SUBRULE2(this.unary))
    })
    return items.length === 1 ? first(items) : { k: 'and', items }
  })

  unary = this.RULE('unary', (): KExpr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Not)
          this.CONSUME(LParen)
          const item = this.SUBRULE(this.orExpr)
          this.CONSUME(RParen)
          return { k: 'not', item } as KExpr
        },
      },
      {
        ALT: () => {
          this.CONSUME2(LParen)
          const e = this.SUBRULE2(this.orExpr)
          this.CONSUME2(RParen)
          return e
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]),
  )

  predicate = this.RULE('predicate', (): KExpr => {
    const left = this.SUBRULE(this.term)
    let out: KExpr = { k: 'term', term: left }
    this.OPTION(() => {
      out = this.OR([
        {
          ALT: () => {
            const op = this.OR2([{ ALT: () => this.CONSUME(SymOp) }, { ALT: () => this.CONSUME(WordOp) }]).image
            const right = this.SUBRULE2(this.term)
            return { k: 'binary', op, left, right } as KExpr
          },
        },
        {
          ALT: () => {
            const op = this.CONSUME(InOp).image
            this.CONSUME(LParen)
            const list: KTerm[] = [this.SUBRULE3(this.term)]
            this.MANY(() => {
              this.CONSUME(Comma)
              list.push(this.SUBRULE4(this.term))
            })
            this.CONSUME(RParen)
            return { k: 'in', op, left, list } as KExpr
          },
        },
        {
          ALT: () => {
            this.CONSUME(Matches)
            this.CONSUME(Regex)
            const pattern = this.SUBRULE5(this.term)
            return { k: 'regex', left, pattern } as KExpr
          },
        },
      ])
    })
    return out
  })

  term = this.RULE('term', (): KTerm => {
    let t = this.SUBRULE(this.atom)
    this.MANY(() => {
      const key = this.OR([
        {
          ALT: () => {
            this.CONSUME(Dot)
            return this.CONSUME(Identifier).image
          },
        },
        {
          ALT: () => {
            this.CONSUME(LBracket)
            const k = this.OR2([
              { ALT: () => stringValue(this.CONSUME(Verbatim).image) },
              { ALT: () => stringValue(this.CONSUME(Quoted).image) },
            ])
            this.CONSUME(RBracket)
            return k
          },
        },
      ])
      t = { k: 'key', base: t, key }
    })
    return t
  })

  atom = this.RULE('atom', (): KTerm =>
    this.OR([
      { ALT: () => ({ k: 'str', value: stringValue(this.CONSUME(Verbatim).image) }) as KTerm },
      { ALT: () => ({ k: 'str', value: stringValue(this.CONSUME(Quoted).image) }) as KTerm },
      { ALT: () => ({ k: 'num', value: Number(this.CONSUME(NumberLit).image) }) as KTerm },
      { ALT: () => ({ k: 'bool', value: this.CONSUME(BoolLit).image === 'true' }) as KTerm },
      {
        ALT: () => {
          const name = this.CONSUME(Identifier).image
          let call: KTerm[] | undefined
          this.OPTION(() => {
            this.CONSUME(LParen)
            const args: KTerm[] = []
            call = args
            this.OPTION2(() => {
              args.push(this.SUBRULE(this.term))
              this.MANY(() => {
                this.CONSUME(Comma)
                args.push(this.SUBRULE2(this.term))
              })
            })
            this.CONSUME(RParen)
          })
          return (call ? { k: 'call', fn: name, args: call } : { k: 'col', name }) as KTerm
        },
      },
    ]),
  )
}

let parser: KqlParser | undefined

export interface KqlParseResult {
  readonly query?: KQuery
  /** Messages with 0-based offsets into the text. */
  readonly errors: ReadonlyArray<{ readonly offset: number; readonly message: string }>
}

/** Parse emitted KQL text; errors (lexing first) instead of exceptions. */
export function parseKql(text: string): KqlParseResult {
  const lexed = lexer.tokenize(text)
  if (lexed.errors.length) {
    return {
      errors: lexed.errors.map((e) => ({
        offset: e.offset,
        message: `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + 1))} (not a token of the KQL subset: a bad escape in a string?)`,
      })),
    }
  }
  parser ??= new KqlParser()
  parser.input = lexed.tokens
  const query = parser.query()
  if (!parser.errors.length && query.filters.length === 0)
    return { errors: [{ offset: text.length, message: 'a query of the subset has at least one where' }] }
  if (parser.errors.length) {
    return {
      errors: parser.errors.map((e) => ({
        offset: (e.token as IToken).startOffset ?? text.length,
        message: e.message,
      })),
    }
  }
  return { query, errors: [] }
}
