/**
 * Microsoft's own KQL parser and binder (Kusto.Language, npm @kusto/language-service-next) as a
 * gate: a query is parsed and bound against the tables of targets/kql/schema/<variant>.yml, and
 * every error it reports (syntax, bad escape, unknown column or function, wrong arity) is an error
 * of the compile. It does not execute queries. Loaded lazily: the first call pays about a second.
 *
 *   const diagnostics = await checkKql('DeviceProcessEvents | where FileName =~ "cmd.exe"', 'defender')
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import type { Diagnostic } from '../diagnostics.js'
import { targetPath } from '../paths.js'
import { shippedYaml } from '../shipped-yaml.js'
import { errorMessage, isMap, last } from '../guards.js'
import { type GateToken, reducedQuery } from './kql-gate-reduce.js'

/** The part of Kusto.Language (a Bridge.NET build, untyped for us) this gate calls. */
interface KustoLanguage {
  readonly Symbols: {
    readonly TableSymbol: { readonly $ctor7: new (name: string, schema: string, description: null) => object }
    readonly DatabaseSymbol: { readonly ctor: new (name: string, tables: object[]) => object }
  }
  readonly GlobalState: { readonly Default: { WithDatabase(db: object): GlobalState } }
  readonly KustoCode: { ParseAndAnalyze(query: string, globals: GlobalState): { GetDiagnostics(): unknown } }
  readonly Parsing: { readonly TokenParser: { ParseTokens(text: string, options: null): unknown } }
  readonly Syntax: { readonly SyntaxKind: Readonly<Record<string, number>> }
}
/** Kusto's GlobalState: opaque, passed back to ParseAndAnalyze. */
type GlobalState = { readonly __kustoGlobalState?: never }
interface KustoDiagnostic {
  Severity: string
  Code: string
  Message: string
  Start: number
  End: number
}
interface Bridge {
  toArray(list: unknown): unknown[]
}

/** `obj.a.b…`, or undefined where a step is missing. */
const dig = (obj: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (o, k) => (o !== null && (typeof o === 'object' || typeof o === 'function') ? Reflect.get(o, k) : undefined),
    obj,
  )

/** The Bridge build's globals have the entry points we call (the package defines them on load). */
function isKustoLanguage(k: unknown): k is KustoLanguage {
  return (
    typeof dig(k, 'Symbols', 'TableSymbol', '$ctor7') === 'function' &&
    typeof dig(k, 'Symbols', 'DatabaseSymbol', 'ctor') === 'function' &&
    typeof dig(k, 'GlobalState', 'Default', 'WithDatabase') === 'function' &&
    typeof dig(k, 'KustoCode', 'ParseAndAnalyze') === 'function' &&
    typeof dig(k, 'Parsing', 'TokenParser', 'ParseTokens') === 'function' &&
    typeof dig(k, 'Syntax', 'SyntaxKind', 'StringLiteralToken') === 'number'
  )
}
const isBridge = (b: unknown): b is Bridge => typeof dig(b, 'toArray') === 'function'
const isKustoDiagnostic = (d: unknown): d is KustoDiagnostic =>
  typeof dig(d, 'Severity') === 'string' &&
  typeof dig(d, 'Code') === 'string' &&
  typeof dig(d, 'Message') === 'string' &&
  typeof dig(d, 'Start') === 'number' &&
  typeof dig(d, 'End') === 'number'

let kusto: { language: KustoLanguage; bridge: Bridge } | undefined
const globals = new Map<string, GlobalState>()

/**
 * The bundle's files in load order: Bridge.NET's runtime, then Kusto.Language. The package ships
 * each built twice, readable and minified; the minified pair is the same code with shorter local
 * names and no comments (4 MB instead of 16), so it loads with less memory and makes a V8
 * start-up snapshot of the loaded parser 24 MB instead of 64 (src/verify/kql-gate-snapshot.ts).
 * The in-process gate, the snapshot's child and the browser playground load the same pair, so
 * their verdicts agree (bench/kql-gate-snapshot.mjs compares them with the readable pair on a
 * whole corpus).
 */
export const BUNDLE_FILES = ['bridge.min.js', 'Kusto.Language.Bridge.min.js'] as const

/** The bundle files' absolute paths, in load order. */
export function bundlePaths(): string[] {
  const require = createRequire(import.meta.url)
  return BUNDLE_FILES.map((f) => require.resolve(`@kusto/language-service-next/${f}`))
}

function load(): { language: KustoLanguage; bridge: Bridge } {
  if (!kusto) {
    // The package is a Bridge.NET build that defines globals (Bridge, System, Kusto) when required.
    const require = createRequire(import.meta.url)
    for (const file of BUNDLE_FILES) require(`@kusto/language-service-next/${file}`)
    const language = dig(globalThis, 'Kusto', 'Language')
    const bridge = dig(globalThis, 'Bridge')
    if (!isKustoLanguage(language) || !isBridge(bridge))
      throw new Error('@kusto/language-service-next did not define Kusto.Language and Bridge as expected')
    kusto = { language, bridge }
  }
  return kusto
}

/** Whether Microsoft's parser is already loaded in this process (then checking here costs nothing more). */
export const isParserLoaded = (): boolean => kusto !== undefined

/**
 * The variant's tables as Kusto's `TableSymbol` takes them: `[name, "(column:type, …)"]`. A list of
 * families (`defender,sentinel`) binds against all their tables at once, the first family's table
 * winning a name both have. Throws when a family has no schema file or a malformed one.
 */
export function tableSchemas(variant: string): [string, string][] {
  const all: Record<string, Record<string, unknown>> = {}
  for (const family of variant.split(',').map((v) => v.trim())) {
    const doc: unknown = shippedYaml(readFileSync(targetPath('kql', 'schema', `${family}.yml`), 'utf8'))
    const tableMap = isMap(doc) ? doc['tables'] : undefined
    if (!isMap(tableMap)) throw new Error(`targets/kql/schema/${family}.yml has no tables: map`)
    for (const [name, columnMap] of Object.entries(tableMap)) {
      if (!isMap(columnMap)) throw new Error(`targets/kql/schema/${family}.yml: table ${name} is not a map of columns`)
      all[name] ??= columnMap
    }
  }
  return Object.entries(all).map(([name, columnMap]) => [
    name,
    '(' +
      Object.entries(columnMap)
        .map(([c, t]) => {
          if (typeof t !== 'string') throw new Error(`targets/kql/schema (${variant}): ${name}.${c} has no type name`)
          return `${c}:${t}`
        })
        .join(', ') +
      ')',
  ])
}

/** The variant's tables as Kusto symbols, built once per variant. */
function globalState(variant: string): GlobalState {
  let g = globals.get(variant)
  if (!g) {
    const K = load().language
    const tables = tableSchemas(variant).map(([name, schema]) => new K.Symbols.TableSymbol.$ctor7(name, schema, null))
    const db = new K.Symbols.DatabaseSymbol.ctor(variant, tables)
    g = K.GlobalState.Default.WithDatabase(db)
    globals.set(variant, g)
  }
  return g
}

/** One diagnostic as Kusto.Language reports it: `start`/`end` are offsets into the query text. */
export interface KustoError {
  readonly severity: string
  readonly code: string
  readonly message: string
  readonly start: number
  readonly end: number
}

export const isKustoError = (d: unknown): d is KustoError =>
  typeof dig(d, 'severity') === 'string' &&
  typeof dig(d, 'code') === 'string' &&
  typeof dig(d, 'message') === 'string' &&
  typeof dig(d, 'start') === 'number' &&
  typeof dig(d, 'end') === 'number'

/**
 * Kusto's diagnostics (from this process or from the gate's child) as rulesmith's: only errors,
 * `at` = the error's line and column inside the query text (0-based).
 */
export function toDiagnostics(query: string, found: readonly KustoError[]): Diagnostic[] {
  return found
    .filter((d) => d.severity === 'Error')
    .map((d) => {
      const before = query.slice(0, d.start).split('\n')
      return {
        code: 'target/kql-parser',
        severity: 'error' as const,
        target: 'kql',
        at: { line: before.length - 1, col: last(before).length },
        message: `Microsoft's KQL parser: ${d.code} ${d.message} (at "${query.slice(d.start, d.end)}")`,
      }
    })
}

/** Kusto's own diagnostics for `query` (all severities), in this process; throws when the variant has no schema. */
export function kustoErrors(query: string, variant: string): KustoError[] {
  const { language: K, bridge } = load()
  return bridge.toArray(K.KustoCode.ParseAndAnalyze(query, globalState(variant)).GetDiagnostics()).map((d) => {
    if (!isKustoDiagnostic(d)) throw new Error(`Microsoft's KQL parser returned a diagnostic of another shape`)
    return { severity: d.Severity, code: d.Code, message: d.Message, start: d.Start, end: d.End }
  })
}

/**
 * Queries this long or longer are first checked in a reduced form (./kql-gate-reduce.ts): the
 * same verdict, without binding repeated terms one by one. Binding is the gate's cost: about
 * 0.3 ms for each `Column op "literal"` and each `or` in Kusto.Language's Bridge.NET build, and
 * 0.25 ms for the rest of a call (bench/README.md, "The KQL gate's binder"). From 400
 * characters, where most of SigmaHQ's queries with a list of values start, lexing and reducing
 * first (about 5 % of a bind) takes a third off the gate's time on SigmaHQ's queries; a rule with
 * a 100,000-value list gives 4 MB. A reduced query with an error costs a second bind (the whole
 * query's), so an invalid query costs more than before: they are the rare case.
 */
export const REDUCE_FROM = 400

/**
 * Parse and bind `query` with Kusto.Language against the `variant`'s schema (`defender` |
 * `sentinel`). Returns its errors as `target/kql-parser` diagnostics, `at` = the error's line and
 * column inside the query text (0-based); an empty array when Microsoft's parser accepts the query.
 */
export async function checkKql(
  query: string,
  variant = 'defender',
  options: { readonly reduceFrom?: number } = {},
): Promise<Diagnostic[]> {
  const { language: K, bridge } = load()
  let globals: GlobalState
  try {
    globals = globalState(variant)
  } catch (e) {
    return [
      {
        code: 'target/kql-parser',
        severity: 'error',
        target: 'kql',
        message: `kql has no schema for the family "${variant}": ${errorMessage(e).split('\n')[0]}`,
      },
    ]
  }
  if (query.length >= (options.reduceFrom ?? REDUCE_FROM)) {
    const reduced = reduce(K, bridge, query)
    // A reduced query with no error stands for the whole one; with an error, the whole query is
    // checked, so the error is reported where it is in the emitted text.
    if (reduced !== undefined && errorsOf(K, bridge, reduced, globals).length === 0) return []
  }
  return toDiagnostics(
    query,
    errorsOf(K, bridge, query, globals).map((d) => ({
      severity: d.Severity,
      code: d.Code,
      message: d.Message,
      start: d.Start,
      end: d.End,
    })),
  )
}

function errorsOf(K: KustoLanguage, bridge: Bridge, query: string, globals: GlobalState): KustoDiagnostic[] {
  return bridge
    .toArray(K.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics())
    .map((d) => {
      if (!isKustoDiagnostic(d)) throw new Error(`Microsoft's KQL parser returned a diagnostic of another shape`)
      return d
    })
    .filter((d) => d.Severity === 'Error')
}

/**
 * The query read by Microsoft's lexer and reduced; undefined when the lexer reports anything on
 * any token (the whole query is then checked) or nothing can be dropped. The snapshot child
 * (kql-gate-child.cts) reads tokens the same way in its own copy: a snapshot can load no module
 * of ours, and test/kql/gate-snapshot.test.ts holds the two to the same answers.
 */
function reduce(K: KustoLanguage, bridge: Bridge, query: string): string | undefined {
  const kind = K.Syntax.SyntaxKind
  const kinds = new Map<number | undefined, GateToken['kind']>([
    [kind['StringLiteralToken'], 'string'],
    [kind['IdentifierToken'], 'identifier'],
    [kind['OpenParenToken'], 'open'],
    [kind['CloseParenToken'], 'close'],
    [kind['OrKeyword'], 'or'],
    [kind['AndKeyword'], 'and'],
    [kind['CommaToken'], 'comma'],
  ])
  const tokens: GateToken[] = []
  for (const t of bridge.toArray(K.Parsing.TokenParser.ParseTokens(query, null))) {
    const [k, text, trivia, diagnostics] = [dig(t, 'Kind'), dig(t, 'Text'), dig(t, 'Trivia'), dig(t, 'Diagnostics')]
    if (typeof k !== 'number' || typeof text !== 'string' || typeof trivia !== 'string') return undefined
    if (diagnostics != null && bridge.toArray(diagnostics).length > 0) return undefined
    tokens.push({ kind: kinds.get(k) ?? 'other', text, trivia })
  }
  // The lexer's tokens must spell the query exactly, or dropping some of them could change the rest.
  if (tokens.map((t) => t.trivia + t.text).join('') !== query) return undefined
  return reducedQuery(tokens)
}

/** The reduced form the gate would check first (for tests and bench/): undefined when none. */
export function gateReduction(query: string): string | undefined {
  const { language: K, bridge } = load()
  return reduce(K, bridge, query)
}
