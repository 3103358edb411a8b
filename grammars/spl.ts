/**
 * A chevrotain grammar of the SPL subset rulesmith emits and other converters emit (pySigma's Splunk
 * backend), for the verifier: a `search` expression (field comparisons, `IN`, `NOT`, `OR`, implicit
 * or explicit `AND`, parentheses; a field name bare or in double quotes), then piped
 * `where <eval expression>`, `regex [<field>[!]=]"<regex>"`, `rex [field=<field>] "<regex>"`,
 * `eval <field>=<expr>, …` and `search` commands.
 *
 * Precedence follows Splunk's documentation, not the backend: in `search` NOT binds tightest,
 * then OR, then AND; in eval expressions NOT, then comparison, then AND, then OR.
 * https://help.splunk.com/en/splunk-enterprise/search/search-manual/9.3/expressions-and-predicates
 * So a backend that forgets a parenthesis is caught by the verifier, not excused by it.
 */
import { createToken, EmbeddedActionsParser, Lexer, type IToken, type TokenType } from './chevrotain.js'
import { entryOf, first } from '../src/guards.js'

// --- AST ---------------------------------------------------------------------------------------

/** A value in a search comparison. `text` is decoded (quotes and `\\`, `\"` escapes removed). */
export interface SearchValue {
  readonly text: string
  readonly quoted: boolean
}

export type SearchExpr =
  | { readonly kind: 'and' | 'or'; readonly items: readonly SearchExpr[] }
  | { readonly kind: 'not'; readonly item: SearchExpr }
  | { readonly kind: 'compare'; readonly field: string; readonly op: CompareOp; readonly value: SearchValue }
  | { readonly kind: 'in'; readonly field: string; readonly values: readonly SearchValue[] }
  /** A bare term: searches the raw event text. */
  | { readonly kind: 'term'; readonly value: SearchValue }

export type CompareOp = '=' | '==' | '!=' | '<' | '<=' | '>' | '>='

export type EvalExpr =
  | { readonly kind: 'and' | 'or'; readonly items: readonly EvalExpr[] }
  | { readonly kind: 'not'; readonly item: EvalExpr }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: EvalExpr; readonly right: EvalExpr }
  | { readonly kind: 'add'; readonly left: EvalExpr; readonly right: EvalExpr }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly EvalExpr[] }
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }

export type Command =
  | { readonly kind: 'search'; readonly expr?: SearchExpr }
  | { readonly kind: 'where'; readonly expr: EvalExpr }
  /** `regex f="re"`, `regex f!="re"`, `regex "re"` (field `_raw`). */
  | { readonly kind: 'regex'; readonly field: string; readonly negate: boolean; readonly pattern: string }
  /** `rex [field=f] "re"`: the named groups of the first match become fields (field `_raw` when none is named). */
  | { readonly kind: 'rex'; readonly field: string; readonly pattern: string }
  /** `eval f=expr[, g=expr …]`. */
  | { readonly kind: 'eval'; readonly assignments: readonly { readonly field: string; readonly expr: EvalExpr }[] }
  /** `| datamodel <model> <dataset> search`: a generating command, the dataset's events. */
  | { readonly kind: 'datamodel'; readonly model: string; readonly dataset: string }

/** The commands in pipeline order; the first is the (implicit) search. */
export interface SplQuery {
  readonly commands: readonly Command[]
}

export interface SplSyntaxError {
  readonly message: string
  /** 0-based offset in the query text. */
  readonly offset: number
}

// --- Tokens ------------------------------------------------------------------------------------

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED })
/** ```comment```: "use three backtick characters before and after the comment"
 * (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/write-better-searches/add-comments-to-searches). */
const Comment = createToken({ name: 'Comment', pattern: /```[^]*?```/, group: Lexer.SKIPPED })
/** `"…"` with backslash escapes. */
const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\]|\\[^])*"/, label: 'a quoted string' })
/** `'field name'`: a field name in an eval expression. */
const QuotedField = createToken({ name: 'QuotedField', pattern: /'[^']*'/, label: 'a quoted field name' })
const Pipe = createToken({ name: 'Pipe', pattern: /\|/, label: "'|'" })
const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" })
const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" })
const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" })
const EqEq = createToken({ name: 'EqEq', pattern: /==/, label: "'=='" })
const NotEq = createToken({ name: 'NotEq', pattern: /!=/, label: "'!='" })
const Lte = createToken({ name: 'Lte', pattern: /<=/, label: "'<='" })
const Gte = createToken({ name: 'Gte', pattern: />=/, label: "'>='" })
const Lt = createToken({ name: 'Lt', pattern: /</, label: "'<'" })
const Gt = createToken({ name: 'Gt', pattern: />/, label: "'>'" })
const Eq = createToken({ name: 'Eq', pattern: /=/, label: "'='" })
const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" })
/** A bare word: a field name, a function name, a number, an unquoted value (`*`, `10.0.0.0/8`). */
const Word = createToken({ name: 'Word', pattern: /[^\s"'()|=,<>!+]+/, label: 'a word' })
// Boolean operators are upper case only ("Boolean operators must be uppercase").
const And = createToken({ name: 'And', pattern: /AND/, longer_alt: Word, label: "'AND'" })
const Or = createToken({ name: 'Or', pattern: /OR/, longer_alt: Word, label: "'OR'" })
const Not = createToken({ name: 'Not', pattern: /NOT/, longer_alt: Word, label: "'NOT'" })
const In = createToken({ name: 'In', pattern: /IN/, longer_alt: Word, label: "'IN'" })

const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  StringLit,
  QuotedField,
  Pipe,
  LParen,
  RParen,
  Comma,
  EqEq,
  NotEq,
  Lte,
  Gte,
  Lt,
  Gt,
  Eq,
  Plus,
  And,
  Or,
  Not,
  In,
  Word,
]
const lexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: false })

// --- Literal decoding --------------------------------------------------------------------------

/**
 * A quoted search value: `\\` is a backslash and `\"` a quote
 * (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/backslashes);
 * a backslash before anything else is kept as it is [our reading; the backend never writes one].
 */
function decodeSearchString(image: string): string {
  return image.slice(1, -1).replace(/\\([\\"])/g, '$1')
}

/**
 * An eval string literal: `\\` backslash, `\"` quote, `\t` tab, `\n` newline ("C:\\windows\temp"
 * holds a tab: https://help.splunk.com/en/splunk-enterprise/search/search-manual/10.0/expressions-and-predicates);
 * other escapes are kept as written [our reading].
 */
function decodeEvalString(image: string): string {
  return image.slice(1, -1).replace(/\\([\\"tn])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c))
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-]?\d+)?$/

const COMPARE_OPS: Readonly<Record<string, CompareOp>> = {
  Eq: '=',
  EqEq: '==',
  NotEq: '!=',
  Lt: '<',
  Lte: '<=',
  Gt: '>',
  Gte: '>=',
}

// --- Parser ------------------------------------------------------------------------------------

/** A syntax rule the grammar checks in an action (reported as a syntax error at the command). */
class SplGrammarError extends Error {}

class SplParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { recoveryEnabled: false })
    this.performSelfAnalysis()
  }

  public query = this.RULE('query', (): SplQuery => {
    const commands: Command[] = []
    let first: SearchExpr | undefined
    this.OPTION(() => {
      first = this.SUBRULE(this.searchAnd)
    })
    commands.push(first ? { kind: 'search', expr: first } : { kind: 'search' })
    this.MANY(() => {
      this.CONSUME(Pipe)
      commands.push(this.SUBRULE(this.command))
    })
    return { commands }
  })

  private command = this.RULE('command', (): Command => {
    const name = this.CONSUME(Word, { LABEL: 'command name' })
    return this.OR({
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => name.image === 'where',
          ALT: (): Command => ({ kind: 'where', expr: this.SUBRULE(this.evalOr) }),
        },
        {
          GATE: () => name.image === 'search',
          ALT: (): Command => ({ kind: 'search', expr: this.SUBRULE2(this.searchAnd) }),
        },
        {
          // regex (<field>=<regex-expression> | <field>!=<regex-expression> | <regex-expression>)
          // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/regex
          GATE: () => name.image === 'regex',
          ALT: (): Command => {
            let field = '_raw'
            let negate = false
            this.OPTION(() => {
              field = this.SUBRULE(this.fieldName)
              const op = this.OR2([{ ALT: () => this.CONSUME(Eq) }, { ALT: () => this.CONSUME(NotEq) }])
              negate = op.image === '!='
            })
            const pattern = this.CONSUME(StringLit).image
            return { kind: 'regex', field, negate, pattern: this.ACTION(() => decodeSearchString(pattern)) }
          },
        },
        {
          // rex [field=<field>] <regex-expression>
          // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.1/search-commands/rex
          GATE: () => name.image === 'rex',
          ALT: (): Command => {
            let field = '_raw'
            this.OPTION2(() => {
              const key = this.CONSUME3(Word).image
              this.CONSUME2(Eq)
              field = this.SUBRULE2(this.fieldName)
              this.ACTION(() => {
                if (key !== 'field') throw new SplGrammarError(`rex takes field=…, not ${key}=…`)
              })
            })
            const pattern = this.CONSUME2(StringLit).image
            return { kind: 'rex', field, pattern: this.ACTION(() => decodeSearchString(pattern)) }
          },
        },
        {
          // datamodel <data model name> <dataset name> search: the dataset's events ("search" is the
          // data model search mode). https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/datamodel
          GATE: () => name.image === 'datamodel',
          ALT: (): Command => {
            const model = this.CONSUME4(Word).image
            const dataset = this.CONSUME5(Word).image
            const mode = this.CONSUME6(Word).image
            this.ACTION(() => {
              if (mode !== 'search') throw new SplGrammarError(`datamodel in mode ${mode}: only search returns events`)
            })
            return { kind: 'datamodel', model, dataset }
          },
        },
        {
          // eval <field>=<expression>[, <field>=<expression>]…
          GATE: () => name.image === 'eval',
          ALT: (): Command => {
            const assignments: { field: string; expr: EvalExpr }[] = []
            this.AT_LEAST_ONE_SEP({
              SEP: Comma,
              DEF: () => {
                const field = this.SUBRULE3(this.fieldName)
                this.CONSUME3(Eq)
                assignments.push({ field, expr: this.SUBRULE3(this.evalOr) })
              },
            })
            return { kind: 'eval', assignments }
          },
        },
      ],
    })
  })

  /** A field name: a bare word, or a double-quoted name (`"c-useragent"`). */
  private fieldName = this.RULE('fieldName', (): string =>
    this.OR([
      { ALT: () => this.CONSUME(Word).image },
      {
        ALT: () => {
          const t = this.CONSUME(StringLit).image
          return this.ACTION(() => decodeSearchString(t))
        },
      },
    ]),
  )

  // search: AND (implicit or explicit) < OR < NOT

  private searchAnd = this.RULE('searchAnd', (): SearchExpr => {
    const items = [this.SUBRULE(this.searchOr)]
    this.MANY(() => {
      this.OPTION(() => this.CONSUME(And))
      items.push(this.SUBRULE2(this.searchOr))
    })
    return items.length === 1 ? first(items) : { kind: 'and', items }
  })

  private searchOr = this.RULE('searchOr', (): SearchExpr => {
    const items = [this.SUBRULE(this.searchNot)]
    this.MANY(() => {
      this.CONSUME(Or)
      items.push(this.SUBRULE2(this.searchNot))
    })
    return items.length === 1 ? first(items) : { kind: 'or', items }
  })

  private searchNot = this.RULE('searchNot', (): SearchExpr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Not)
          return { kind: 'not', item: this.SUBRULE(this.searchNot) } as SearchExpr
        },
      },
      { ALT: () => this.SUBRULE(this.searchAtom) },
    ]),
  )

  private searchAtom = this.RULE('searchAtom', (): SearchExpr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen)
          const e = this.SUBRULE(this.searchAnd)
          this.CONSUME(RParen)
          return e
        },
      },
      {
        ALT: () => {
          // A quoted string before a comparison names a field (`"c-useragent"="rclone/v*"`, as
          // pySigma's Splunk backend writes names outside [\w.]) [our reading]; alone it is a phrase.
          const t = this.CONSUME(StringLit).image
          const text = this.ACTION(() => decodeSearchString(t))
          return this.OR3([
            {
              ALT: () => {
                const op = this.SUBRULE2(this.compareOp)
                return { kind: 'compare', field: text, op, value: this.SUBRULE4(this.searchValue) } as SearchExpr
              },
            },
            {
              ALT: () => {
                this.CONSUME2(In)
                return { kind: 'in', field: text, values: this.SUBRULE(this.valueList) } as SearchExpr
              },
            },
            { ALT: () => ({ kind: 'term', value: { text, quoted: true } }) as SearchExpr },
          ])
        },
      },
      {
        ALT: () => {
          const field = this.CONSUME(Word).image
          return this.OR2([
            {
              ALT: () => {
                this.CONSUME(In)
                return { kind: 'in', field, values: this.SUBRULE2(this.valueList) } as SearchExpr
              },
            },
            {
              ALT: () => {
                const op = this.SUBRULE(this.compareOp)
                return { kind: 'compare', field, op, value: this.SUBRULE3(this.searchValue) } as SearchExpr
              },
            },
            { ALT: () => ({ kind: 'term', value: { text: field, quoted: false } }) as SearchExpr },
          ])
        },
      },
    ]),
  )

  /** `(v, v, …)` after IN. */
  private valueList = this.RULE('valueList', (): SearchValue[] => {
    this.CONSUME2(LParen)
    const values = [this.SUBRULE(this.searchValue)]
    this.MANY(() => {
      this.CONSUME(Comma)
      values.push(this.SUBRULE2(this.searchValue))
    })
    this.CONSUME2(RParen)
    return values
  })

  private searchValue = this.RULE('searchValue', (): SearchValue =>
    this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(StringLit).image
          return { text: this.ACTION(() => decodeSearchString(t)), quoted: true }
        },
      },
      { ALT: () => ({ text: this.CONSUME(Word).image, quoted: false }) },
    ]),
  )

  private compareOp = this.RULE('compareOp', (): CompareOp => {
    const t: IToken = this.OR([
      { ALT: () => this.CONSUME(Eq) },
      { ALT: () => this.CONSUME(EqEq) },
      { ALT: () => this.CONSUME(NotEq) },
      { ALT: () => this.CONSUME(Lt) },
      { ALT: () => this.CONSUME(Lte) },
      { ALT: () => this.CONSUME(Gt) },
      { ALT: () => this.CONSUME(Gte) },
    ])
    return this.ACTION(() => entryOf(COMPARE_OPS, t.tokenType.name))
  })

  // eval: OR < AND < NOT < comparison < '+'

  private evalOr = this.RULE('evalOr', (): EvalExpr => {
    const items = [this.SUBRULE(this.evalAnd)]
    this.MANY(() => {
      this.CONSUME(Or)
      items.push(this.SUBRULE2(this.evalAnd))
    })
    return items.length === 1 ? first(items) : { kind: 'or', items }
  })

  private evalAnd = this.RULE('evalAnd', (): EvalExpr => {
    const items = [this.SUBRULE(this.evalNot)]
    this.MANY(() => {
      this.CONSUME(And)
      items.push(this.SUBRULE2(this.evalNot))
    })
    return items.length === 1 ? first(items) : { kind: 'and', items }
  })

  private evalNot = this.RULE('evalNot', (): EvalExpr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Not)
          return { kind: 'not', item: this.SUBRULE(this.evalNot) } as EvalExpr
        },
      },
      { ALT: () => this.SUBRULE(this.evalCompare) },
    ]),
  )

  private evalCompare = this.RULE('evalCompare', (): EvalExpr => {
    const left = this.SUBRULE(this.evalAdd)
    let out = left
    this.OPTION(() => {
      const op = this.SUBRULE(this.compareOp)
      const right = this.SUBRULE2(this.evalAdd)
      out = { kind: 'compare', op, left, right }
    })
    return out
  })

  private evalAdd = this.RULE('evalAdd', (): EvalExpr => {
    let out = this.SUBRULE(this.evalPrimary)
    this.MANY(() => {
      this.CONSUME(Plus)
      const right = this.SUBRULE2(this.evalPrimary)
      out = { kind: 'add', left: out, right }
    })
    return out
  })

  private evalPrimary = this.RULE('evalPrimary', (): EvalExpr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen)
          const e = this.SUBRULE(this.evalOr)
          this.CONSUME(RParen)
          return e
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(StringLit).image
          return { kind: 'string', value: this.ACTION(() => decodeEvalString(t)) } as EvalExpr
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(QuotedField).image
          return { kind: 'field', name: t.slice(1, -1) } as EvalExpr
        },
      },
      {
        ALT: () => {
          const word = this.CONSUME(Word).image
          let call: EvalExpr[] | undefined
          this.OPTION(() => {
            this.CONSUME2(LParen)
            const args: EvalExpr[] = []
            call = args
            this.OPTION2(() => {
              args.push(this.SUBRULE2(this.evalOr))
              this.MANY(() => {
                this.CONSUME(Comma)
                args.push(this.SUBRULE3(this.evalOr))
              })
            })
            this.CONSUME2(RParen)
          })
          if (call) return { kind: 'call', name: word, args: call } as EvalExpr
          if (NUMBER.test(word)) return { kind: 'number', value: Number(word) } as EvalExpr
          return { kind: 'field', name: word } as EvalExpr
        },
      },
    ]),
  )
}

let parser: SplParser | undefined

/** Parse emitted SPL. Never throws for bad text: errors come back with their offsets. */
export function parseSpl(text: string): { query?: SplQuery; errors: SplSyntaxError[] } {
  parser ??= new SplParser()
  const lexed = lexer.tokenize(text)
  if (lexed.errors.length > 0) {
    return {
      errors: lexed.errors.map((e) => ({
        message: `unexpected character '${text.slice(e.offset, e.offset + e.length)}'`,
        offset: e.offset,
      })),
    }
  }
  const leading = leadingOperator(lexed.tokens)
  if (leading) return { errors: [leading] }
  parser.input = lexed.tokens
  let query: SplQuery
  try {
    query = parser.query()
  } catch (e) {
    if (e instanceof SplGrammarError) return { errors: [{ message: e.message, offset: 0 }] }
    throw e
  }
  if (parser.errors.length > 0) {
    return {
      errors: parser.errors.map((e) => ({
        message: e.message,
        offset: Number.isFinite(e.token.startOffset) ? e.token.startOffset : text.length,
      })),
    }
  }
  return { query, errors: [] }
}

/**
 * A search expression that begins with OR or AND (`| search OR x=1`, as pySigma's Splunk backend
 * writes a disjunction split across a pipe: pySigma-backend-splunk issue #74). OR and AND join two
 * expressions — `search <logical-expression>`, `<logical-expression> [OR] <logical-expression>`
 * (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/search) —
 * so one with nothing on its left is a syntax error, reported with what it is.
 */
function leadingOperator(tokens: readonly IToken[]): SplSyntaxError | undefined {
  for (const [k, t] of tokens.entries()) {
    if (t.tokenType !== Or && t.tokenType !== And) continue
    const before = tokens[k - 1]
    const starts =
      before === undefined ||
      before.tokenType === LParen ||
      (before.tokenType === Word && before.image === 'search' && tokens[k - 2]?.tokenType === Pipe)
    if (starts)
      return {
        message: `a search expression cannot begin with ${t.image}: ${t.image} joins two expressions and has none on its left`,
        offset: t.startOffset,
      }
  }
  return undefined
}
