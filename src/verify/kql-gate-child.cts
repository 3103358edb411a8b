/**
 * The KQL gate's child process: Microsoft's parser (the same bundle files as
 * src/verify/kql-parser.ts) loaded, the schemas bound and the parser warmed once, then frozen in a
 * V8 start-up snapshot (src/verify/kql-gate-snapshot.ts builds it and talks to it). Node 20 reads a
 * snapshot only when a process starts, so the gate asks a child process started from it: about
 * 0.2 s of CPU instead of the 1.5–1.8 s the bundle costs to load and warm in the CLI's process.
 *
 * A snapshot's entry script may require only Node's built-in modules, so this file is
 * self-contained CommonJS and shares nothing with the rest of rulesmith but the protocol, one JSON
 * object a line:
 *
 *   child → parent, once at start:  {"ready": KEY}          (the key the snapshot was built for)
 *   parent → child:                 {"id": N, "variant": V, "query": Q}
 *   parent → child:                 {"id": N, "variant": "", "query": Q, "lex": true}
 *   child → parent:                 {"id": N, "errors": [{severity, code, message, start, end}, …]}
 *                                   {"id": N, "tokens": [[kind, trivia length, text length], …] | null}
 *                                   {"id": N, "variant": false}    no such variant in this snapshot
 *                                   {"id": N, "failed": MESSAGE}   the parser threw
 *
 * The child exits when its standard input ends. It prints nothing else; its standard error is
 * read by the parent and never shown.
 *
 * Run three ways:
 *   node --snapshot-blob BLOB --build-snapshot kql-gate-child.cjs INPUT.json   build the snapshot
 *   node --snapshot-blob BLOB                                                  serve from it
 *   node kql-gate-child.cjs INPUT.json                                         load and serve (tests)
 * INPUT.json: {key, bundle: [file, …], tables: {variant: [[table, "(col:type, …)"], …]},
 * warm: [[variant, query], …]}. The snapshot builder runs its entry as a bare script with no
 * `exports`, which tsc's CommonJS output touches once: the build prefixes `var exports = {}`.
 */
import fs = require('node:fs')
import v8 = require('node:v8')

interface Input {
  key: string
  bundle: string[]
  tables: Record<string, [string, string][]>
  warm: [string, string][]
}

/** The Kusto.Language entry points the gate calls (a Bridge.NET build, untyped). */
interface Kusto {
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: null) => object }
    DatabaseSymbol: { ctor: new (name: string, tables: object[]) => object }
  }
  GlobalState: { Default: { WithDatabase(db: object): object } }
  KustoCode: { ParseAndAnalyze(query: string, globals: object): { GetDiagnostics(): unknown } }
  Parsing: { TokenParser: { ParseTokens(text: string, options: null): unknown } }
  Syntax: { SyntaxKind: Record<string, unknown> }
}
interface Bridge {
  toArray(list: unknown): unknown[]
}

/** `o[k]` for any object, undefined otherwise. */
const field = (o: unknown, k: string): unknown =>
  (typeof o === 'object' || typeof o === 'function') && o !== null ? Reflect.get(o, k) : undefined
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')
const isPairList = (v: unknown): v is [string, string][] =>
  Array.isArray(v) && v.every((p) => isStringList(p) && p.length === 2)

function isInput(v: unknown): v is Input {
  const tables = field(v, 'tables')
  return (
    typeof field(v, 'key') === 'string' &&
    isStringList(field(v, 'bundle')) &&
    typeof tables === 'object' &&
    tables !== null &&
    Object.values(tables).every(isPairList) &&
    isPairList(field(v, 'warm'))
  )
}

function readInput(file: string | undefined): Input {
  if (!file) throw new Error('usage: kql-gate-child.cjs INPUT.json')
  const input: unknown = JSON.parse(fs.readFileSync(file, 'utf8'))
  if (!isInput(input)) throw new Error(`${file}: not a KQL gate child input`)
  return input
}

const isKusto = (k: unknown): k is Kusto =>
  typeof field(field(field(k, 'Symbols'), 'TableSymbol'), '$ctor7') === 'function' &&
  typeof field(field(field(k, 'Symbols'), 'DatabaseSymbol'), 'ctor') === 'function' &&
  typeof field(field(field(k, 'GlobalState'), 'Default'), 'WithDatabase') === 'function' &&
  typeof field(field(k, 'KustoCode'), 'ParseAndAnalyze') === 'function' &&
  typeof field(field(field(k, 'Parsing'), 'TokenParser'), 'ParseTokens') === 'function' &&
  typeof field(field(field(k, 'Syntax'), 'SyntaxKind'), 'StringLiteralToken') === 'number'
const isBridge = (b: unknown): b is Bridge => typeof field(b, 'toArray') === 'function'

/** Microsoft's parser loaded, every variant's schema bound, and the parser warmed on `warm`. */
function load(input: Input): { check: (variant: string, query: string) => string; lex: (query: string) => string } {
  // The bundle files are scripts that define globals (Bridge, System, Kusto); an indirect eval
  // runs each as a script in the global scope. (`vm`, the usual way, makes the snapshot builder
  // warn that the module is not verified for snapshots.)
  // oxlint-disable-next-line eslint/no-eval -- the parser's own bundle files, run as the scripts they are
  const evalGlobally = eval
  for (const file of input.bundle) evalGlobally(fs.readFileSync(file, 'utf8'))
  const K = field(field(globalThis, 'Kusto'), 'Language')
  const bridge = field(globalThis, 'Bridge')
  if (!isKusto(K) || !isBridge(bridge)) throw new Error('the bundle did not define Kusto.Language and Bridge')
  const globals = new Map<string, object>()
  for (const [variant, tables] of Object.entries(input.tables)) {
    const symbols = tables.map(([name, schema]) => new K.Symbols.TableSymbol.$ctor7(name, schema, null))
    globals.set(variant, K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor(variant, symbols)))
  }
  const check = (variant: string, query: string): string => {
    const state = globals.get(variant)
    if (!state) return JSON.stringify({ variant: false })
    const errors = bridge.toArray(K.KustoCode.ParseAndAnalyze(query, state).GetDiagnostics()).map((d) => ({
      severity: field(d, 'Severity'),
      code: field(d, 'Code'),
      message: field(d, 'Message'),
      start: field(d, 'Start'),
      end: field(d, 'End'),
    }))
    return JSON.stringify({ errors })
  }
  // The lexer's tokens for the gate's reducer (src/verify/kql-gate-reduce.ts, run by the parent),
  // as src/verify/kql-parser.ts's reduce() reads them: the seven kinds the reducer tells apart,
  // nothing when any token has a finding or the tokens do not spell the query.
  const SK = K.Syntax.SyntaxKind
  const kinds = new Map<unknown, string>([
    [SK['StringLiteralToken'], 'string'],
    [SK['IdentifierToken'], 'identifier'],
    [SK['OpenParenToken'], 'open'],
    [SK['CloseParenToken'], 'close'],
    [SK['OrKeyword'], 'or'],
    [SK['AndKeyword'], 'and'],
    [SK['CommaToken'], 'comma'],
  ])
  const lex = (query: string): string => {
    const tokens: [string, number, number][] = []
    let at = 0
    for (const t of bridge.toArray(K.Parsing.TokenParser.ParseTokens(query, null))) {
      const [kind, text, trivia, diagnostics] = [
        field(t, 'Kind'),
        field(t, 'Text'),
        field(t, 'Trivia'),
        field(t, 'Diagnostics'),
      ]
      if (typeof kind !== 'number' || typeof text !== 'string' || typeof trivia !== 'string') return '{"tokens":null}'
      if (diagnostics != null && bridge.toArray(diagnostics).length > 0) return '{"tokens":null}'
      if (!query.startsWith(trivia + text, at)) return '{"tokens":null}'
      at += trivia.length + text.length
      tokens.push([kinds.get(kind) ?? 'other', trivia.length, text.length])
    }
    return at === query.length ? JSON.stringify({ tokens }) : '{"tokens":null}'
  }
  // The first check of a process builds most of the parser's lazily made state (grammar, function
  // signatures): done here, it is in the snapshot and no child pays it again.
  for (const [variant, query] of input.warm) {
    check(variant, query)
    lex(query)
  }
  return { check, lex }
}

/** Answer requests from standard input, one line each, until it ends. */
function serve(key: string, parser: ReturnType<typeof load>): void {
  const out = (line: string) => process.stdout.write(line + '\n')
  out(JSON.stringify({ ready: key }))
  let partial: string[] = []
  const answer = (line: string) => {
    if (!line) return
    let id: unknown
    try {
      const request: unknown = JSON.parse(line)
      id = field(request, 'id')
      const variant = field(request, 'variant')
      const query = field(request, 'query')
      if (typeof id !== 'number' || typeof variant !== 'string' || typeof query !== 'string')
        throw new Error('malformed request')
      const reply = field(request, 'lex') === true ? parser.lex(query) : parser.check(variant, query)
      out(`{"id":${id},` + reply.slice(1))
    } catch (e) {
      out(JSON.stringify({ id, failed: e instanceof Error ? e.message : String(e) }))
    }
  }
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk: string) => {
    // Only the new chunk is searched: a query of megabytes arrives in many chunks.
    let start = 0
    let nl: number
    while ((nl = chunk.indexOf('\n', start)) >= 0) {
      partial.push(chunk.slice(start, nl))
      answer(partial.join(''))
      partial = []
      start = nl + 1
    }
    if (start < chunk.length) partial.push(chunk.slice(start))
  })
  process.stdin.on('end', () => {
    answer(partial.join(''))
    process.exitCode = 0
  })
}

if (v8.startupSnapshot.isBuildingSnapshot()) {
  const input = readInput(process.argv[2])
  const parser = load(input)
  const key = input.key
  v8.startupSnapshot.setDeserializeMainFunction(() => serve(key, parser))
} else {
  const input = readInput(process.argv[2])
  serve(input.key, load(input))
}
