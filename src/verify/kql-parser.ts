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
import yaml from 'js-yaml'
import type { Diagnostic } from '../diagnostics.js'
import { targetPath } from '../paths.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Kusto = any

let kusto: Kusto | undefined
const globals = new Map<string, Kusto>()

function load(): Kusto {
  if (!kusto) {
    // The package is a Bridge.NET build that defines globals (Bridge, System, Kusto) when required.
    const require = createRequire(import.meta.url)
    require('@kusto/language-service-next/bridge.js')
    require('@kusto/language-service-next')
    kusto = (globalThis as any).Kusto.Language
  }
  return kusto
}

/** The variant's tables as Kusto symbols, built once per variant. */
function globalState(variant: string): Kusto {
  let g = globals.get(variant)
  if (!g) {
    const K = load()
    // A list of families (`defender,sentinel`) binds against all their tables at once.
    const all: Record<string, Record<string, string>> = {}
    for (const family of variant.split(',').map((v) => v.trim())) {
      const doc = yaml.load(readFileSync(targetPath('kql', 'schema', `${family}.yml`), 'utf8')) as {
        tables: Record<string, Record<string, string>>
      }
      for (const [name, columns] of Object.entries(doc.tables)) all[name] ??= columns
    }
    const tables = Object.entries(all).map(([name, columns]) => {
      const schema =
        '(' +
        Object.entries(columns)
          .map(([c, t]) => `${c}:${t}`)
          .join(', ') +
        ')'
      return new K.Symbols.TableSymbol.$ctor7(name, schema, null)
    })
    const db = new K.Symbols.DatabaseSymbol.ctor(variant, tables)
    g = K.GlobalState.Default.WithDatabase(db)
    globals.set(variant, g)
  }
  return g
}

/**
 * Parse and bind `query` with Kusto.Language against the `variant`'s schema (`defender` |
 * `sentinel`). Returns its errors as `target/kql-parser` diagnostics, `at` = the error's line and
 * column inside the query text (0-based); an empty array when Microsoft's parser accepts the query.
 */
export async function checkKql(query: string, variant = 'defender'): Promise<Diagnostic[]> {
  const K = load()
  let globals: Kusto
  try {
    globals = globalState(variant)
  } catch (e) {
    return [
      {
        code: 'target/kql-parser',
        severity: 'error',
        target: 'kql',
        message: `kql has no schema for the family "${variant}": ${(e as Error).message.split('\n')[0]}`,
      },
    ]
  }
  const code = K.KustoCode.ParseAndAnalyze(query, globals)
  const diags = (globalThis as any).Bridge.toArray(code.GetDiagnostics()) as Array<{
    Severity: string
    Code: string
    Message: string
    Start: number
    End: number
  }>
  return diags
    .filter((d) => d.Severity === 'Error')
    .map((d) => {
      const before = query.slice(0, d.Start).split('\n')
      return {
        code: 'target/kql-parser',
        severity: 'error' as const,
        target: 'kql',
        at: { line: before.length - 1, col: before[before.length - 1]!.length },
        message: `Microsoft's KQL parser: ${d.Code} ${d.Message} (at "${query.slice(d.Start, d.End)}")`,
      }
    })
}
