/**
 * Chevrotain grammar of the Elasticsearch EQL subset the eql backend emits, for the verifier:
 * `<category> where <condition>` with `and`/`or`/`not`, comparisons `: == != < <= > >=`,
 * `like`/`like~`/`regex`/`regex~`/`in`/`in~` (single values or lists), `== null`/`!= null`, and
 * function calls such as `cidrMatch(field, "cidr", …)`. Syntax: the EQL syntax reference,
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html. The parser
 * builds its own small AST; it shares nothing with the backend.
 */
import { createToken, EmbeddedActionsParser, Lexer, type IToken } from './chevrotain.js'
import { first, itemAt, must } from '../src/guards.js'

// --- AST ----------------------------------------------------------------------------------------

export type Literal =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'null' }

export type CompareOp =
  ':' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'like' | 'like~' | 'regex' | 'regex~' | 'in' | 'in~'

export type Expr =
  | { readonly kind: 'and'; readonly items: readonly Expr[] }
  | { readonly kind: 'or'; readonly items: readonly Expr[] }
  | { readonly kind: 'not'; readonly item: Expr }
  | { readonly kind: 'compare'; readonly field: FieldRef; readonly op: CompareOp; readonly values: readonly Literal[] }
  | {
      readonly kind: 'call'
      readonly name: string
      readonly insensitive: boolean
      readonly field: FieldRef
      readonly args: readonly Literal[]
    }
  | { readonly kind: 'literal'; readonly value: Literal }

/** A field as written: its name, and whether it was marked optional (`?name`). */
export interface FieldRef {
  readonly name: string
  readonly optional: boolean
}

export interface EqlQuery {
  /** The event category, or `any`. */
  readonly category: string
  readonly condition: Expr
}

// --- tokens -------------------------------------------------------------------------------------

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /\s+/, group: Lexer.SKIPPED })
/** `// line` and slash-star block comments (https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html, "Comments"). */
const Comment = createToken({ name: 'Comment', pattern: /\/\/[^\n]*|\/\*[^]*?\*\//, group: Lexer.SKIPPED })
// A raw string: backslashes are literal; it cannot contain `"""` (E1 "Raw strings").
const RawString = createToken({ name: 'RawString', pattern: /"""(?:(?!""")[^])*"""/, label: 'raw string' })
const QuotedString = createToken({ name: 'QuotedString', pattern: /"(?:[^"\\\n\r]|\\[^])*"/, label: 'string' })
const BacktickField = createToken({ name: 'BacktickField', pattern: /`(?:[^`]|``)+`/, label: 'quoted field' })
const NumberLiteral = createToken({
  name: 'NumberLiteral',
  pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: 'number',
})
const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_@][A-Za-z0-9_@]*(?:\.[A-Za-z_@][A-Za-z0-9_@]*)*/,
  label: 'field',
})
const kw = (name: string, word: string, tilde = false) =>
  createToken({
    name,
    pattern: new RegExp(word + (tilde ? '~' : '') + (tilde ? '' : '(?![A-Za-z0-9_@.])')),
    label: `'${word}${tilde ? '~' : ''}'`,
    ...(tilde ? {} : { longer_alt: Identifier }),
  })
const Where = kw('Where', 'where')
const And = kw('And', 'and')
const Or = kw('Or', 'or')
const Not = kw('Not', 'not')
const Null = kw('Null', 'null')
const True = kw('True', 'true')
const False = kw('False', 'false')
const LikeI = kw('LikeI', 'like', true)
const Like = kw('Like', 'like')
const RegexI = kw('RegexI', 'regex', true)
const Regex = kw('Regex', 'regex')
const InI = kw('InI', 'in', true)
const In = kw('In', 'in')
const Any = kw('Any', 'any')
// A function name with the case-insensitive `~` (E1: "use `~`", e.g. `endsWith~(…)`).
// Operator words followed by a list (`in (…)`, `not (…)`) are not function names.
const FunctionName = createToken({
  name: 'FunctionName',
  pattern:
    /(?!(?:and|or|not|in|like|regex|where|any|null|true|false)(?![A-Za-z0-9_]))[A-Za-z_][A-Za-z0-9_]*~?(?=\s*\()/,
  label: 'function',
})
// `?field`: an optional field, null where no index maps it (E1 "Optional fields").
const Question = createToken({ name: 'Question', pattern: /\?/, label: "'?'" })
const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" })
const Eq = createToken({ name: 'Eq', pattern: /==/, label: "'=='" })
const Neq = createToken({ name: 'Neq', pattern: /!=/, label: "'!='" })
const Lte = createToken({ name: 'Lte', pattern: /<=/, label: "'<='" })
const Gte = createToken({ name: 'Gte', pattern: />=/, label: "'>='" })
const Lt = createToken({ name: 'Lt', pattern: /</, label: "'<'" })
const Gt = createToken({ name: 'Gt', pattern: />/, label: "'>'" })
const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" })
const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" })
const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" })

const allTokens = [
  WhiteSpace,
  Comment,
  RawString,
  QuotedString,
  BacktickField,
  NumberLiteral,
  FunctionName,
  LikeI,
  RegexI,
  InI,
  Where,
  And,
  Or,
  Not,
  Null,
  True,
  False,
  Like,
  Regex,
  In,
  Any,
  Identifier,
  Eq,
  Neq,
  Lte,
  Gte,
  Lt,
  Gt,
  Colon,
  Question,
  LParen,
  RParen,
  Comma,
]

const lexer = new Lexer(allTokens, { ensureOptimizations: false, positionTracking: 'onlyOffset' })

// --- literal decoding ---------------------------------------------------------------------------

/** Thrown for a string escape EQL does not define; reported as a parse error. */
class BadEscape extends Error {}

/** A `"…"` literal's value: `\\ \" \n \r \t \u{XX…}` (E1 "Escape characters in a string"). */
function decodeString(image: string): string {
  const body = image.slice(1, -1)
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = itemAt(body, i)
    if (c !== '\\') {
      out += c
      continue
    }
    const e = body[++i]
    const simple: Record<string, string> = { '\\': '\\', '"': '"', n: '\n', r: '\r', t: '\t' }
    if (e !== undefined && simple[e] !== undefined) {
      out += simple[e]
    } else if (e === 'u') {
      const m = /^\{([0-9A-Fa-f]{2,8})\}/.exec(body.slice(i + 1))
      const code = m ? parseInt(must(m[1], 'the group matched'), 16) : NaN
      if (!m || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new BadEscape(`bad \\u escape in ${image}`)
      out += String.fromCodePoint(code)
      i += m[0].length
    } else {
      throw new BadEscape(`unknown escape \\${e ?? ''} in ${image}`)
    }
  }
  return out
}

const decodeField = (image: string): string => (image.startsWith('`') ? image.slice(1, -1).replace(/``/g, '`') : image)

// --- parser -------------------------------------------------------------------------------------

class EqlParser extends EmbeddedActionsParser {
  constructor() {
    super(allTokens, { maxLookahead: 3 })
    this.performSelfAnalysis()
  }

  public query = this.RULE('query', (): EqlQuery => {
    const category = this.OR([
      { ALT: () => this.CONSUME(Any).image },
      { ALT: () => this.CONSUME(Identifier).image },
      {
        ALT: () => {
          const t = this.CONSUME(QuotedString)
          return this.ACTION(() => decodeString(t.image)) ?? ''
        },
      },
    ])
    this.CONSUME(Where)
    const condition = this.SUBRULE(this.orExpr)
    return { category, condition }
  })

  private orExpr = this.RULE('orExpr', (): Expr => {
    const items = [this.SUBRULE(this.andExpr)]
    this.MANY(() => {
      this.CONSUME(Or)
      items.push(this.SUBRULE2(this.andExpr))
    })
    return items.length === 1 ? first(items) : { kind: 'or', items }
  })

  private andExpr = this.RULE('andExpr', (): Expr => {
    const items = [this.SUBRULE(this.notExpr)]
    this.MANY(() => {
      this.CONSUME(And)
      items.push(this.SUBRULE2(this.notExpr))
    })
    return items.length === 1 ? first(items) : { kind: 'and', items }
  })

  private notExpr = this.RULE('notExpr', (): Expr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Not)
          return { kind: 'not', item: this.SUBRULE(this.notExpr) } as Expr
        },
      },
      { ALT: () => this.SUBRULE(this.atom) },
    ]),
  )

  private atom = this.RULE('atom', (): Expr =>
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen)
          const e = this.SUBRULE(this.orExpr)
          this.CONSUME(RParen)
          return e
        },
      },
      { ALT: () => this.SUBRULE(this.call) },
      { ALT: () => this.SUBRULE(this.comparison) },
      { ALT: () => ({ kind: 'literal', value: this.SUBRULE(this.booleanLiteral) }) as Expr },
    ]),
  )

  private call = this.RULE('call', (): Expr => {
    const image = this.CONSUME(FunctionName).image
    this.CONSUME(LParen)
    const field = this.SUBRULE(this.field)
    const args: Literal[] = []
    this.MANY(() => {
      this.CONSUME(Comma)
      args.push(this.SUBRULE(this.literal))
    })
    this.CONSUME(RParen)
    const insensitive = image.endsWith('~')
    return { kind: 'call', name: insensitive ? image.slice(0, -1) : image, insensitive, field, args }
  })

  private comparison = this.RULE('comparison', (): Expr => {
    const field = this.SUBRULE(this.field)
    // Each operator token matches exactly one spelling (case-sensitive patterns): its CompareOp.
    const op = this.OR([
      {
        ALT: (): CompareOp => {
          this.CONSUME(Colon)
          return ':'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Eq)
          return '=='
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Neq)
          return '!='
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Lte)
          return '<='
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Gte)
          return '>='
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Lt)
          return '<'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Gt)
          return '>'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(LikeI)
          return 'like~'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Like)
          return 'like'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(RegexI)
          return 'regex~'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(Regex)
          return 'regex'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(InI)
          return 'in~'
        },
      },
      {
        ALT: (): CompareOp => {
          this.CONSUME(In)
          return 'in'
        },
      },
    ])
    const values = this.OR2([
      {
        ALT: () => {
          this.CONSUME2(LParen)
          const vs = [this.SUBRULE(this.literal)]
          this.MANY(() => {
            this.CONSUME(Comma)
            vs.push(this.SUBRULE2(this.literal))
          })
          this.CONSUME2(RParen)
          return vs
        },
      },
      { ALT: () => [this.SUBRULE3(this.literal)] },
    ])
    return { kind: 'compare', field, op, values }
  })

  private field = this.RULE('field', (): FieldRef => {
    const optional = this.OPTION(() => this.CONSUME(Question)) !== undefined
    const name = this.OR([
      { ALT: () => this.CONSUME(Identifier).image },
      { ALT: () => decodeField(this.CONSUME(BacktickField).image) },
    ])
    return { name, optional }
  })

  private booleanLiteral = this.RULE('booleanLiteral', (): Literal =>
    this.OR([
      { ALT: () => (this.CONSUME(True), { type: 'boolean', value: true }) as Literal },
      { ALT: () => (this.CONSUME(False), { type: 'boolean', value: false }) as Literal },
    ]),
  )

  private literal = this.RULE('literal', (): Literal =>
    this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(QuotedString)
          return { type: 'string', value: this.ACTION(() => decodeString(t.image)) ?? '' } as Literal
        },
      },
      { ALT: () => ({ type: 'string', value: this.CONSUME(RawString).image.slice(3, -3) }) as Literal },
      { ALT: () => ({ type: 'number', value: Number(this.CONSUME(NumberLiteral).image) }) as Literal },
      { ALT: () => (this.CONSUME(Null), { type: 'null' }) as Literal },
      { ALT: () => this.SUBRULE(this.booleanLiteral) },
    ]),
  )
}

let parser: EqlParser | undefined

export interface ParseResult {
  readonly query?: EqlQuery
  /** Messages with the 0-based offset in the query text. */
  readonly errors: readonly { readonly message: string; readonly offset: number }[]
}

/** Parse an EQL query of the emitted subset; never throws for bad input. */
export function parseEql(text: string): ParseResult {
  parser ??= new EqlParser()
  const lexed = lexer.tokenize(text)
  if (lexed.errors.length) {
    return {
      errors: lexed.errors.map((e) => ({
        message: `unexpected character ${JSON.stringify(text.slice(e.offset, e.offset + e.length))}`,
        offset: e.offset,
      })),
    }
  }
  parser.input = lexed.tokens
  let query: EqlQuery | undefined
  try {
    query = parser.query()
  } catch (e) {
    if (e instanceof BadEscape) return { errors: [{ message: e.message, offset: 0 }] }
    throw e
  }
  if (parser.errors.length) {
    return {
      errors: parser.errors.map((e) => ({
        message: e.message,
        offset: (e.token as IToken).startOffset >= 0 ? (e.token as IToken).startOffset : text.length,
      })),
    }
  }
  return query ? { query, errors: [] } : { errors: [{ message: 'empty query', offset: 0 }] }
}
