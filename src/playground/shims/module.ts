/**
 * The browser's `node:module`: `createRequire` for the few CommonJS modules the library requires
 * by name. ajv's runtime helper is bundled; Microsoft's KQL parser (a Bridge.NET build that defines
 * globals) is several megabytes, so the page loads it as classic scripts before the first KQL check
 * (app.ts: loadKustoParser) and `require` only confirms it is there.
 */
import * as ucs2lengthModule from 'ajv/dist/runtime/ucs2length'

// The generated validators read `.default` of the module, as Node's require returns it.
const ucs2length = { default: (ucs2lengthModule as { default: unknown }).default }

// src/verify/kql-parser.ts requires the minified pair, the same files the page loads.
const KUSTO = [
  '@kusto/language-service-next/bridge.min.js',
  '@kusto/language-service-next/Kusto.Language.Bridge.min.js',
  '@kusto/language-service-next/bridge.js',
  '@kusto/language-service-next',
]

export function createRequire(_from: unknown): (name: string) => unknown {
  return (name: string) => {
    if (name === 'ajv/dist/runtime/ucs2length') return ucs2length
    if (KUSTO.includes(name)) {
      const kusto: unknown = Reflect.get(globalThis, 'Kusto')
      if (!kusto) throw new Error("Microsoft's KQL parser is not loaded yet")
      return kusto
    }
    throw new Error(`require('${name}') is not available in the browser build`)
  }
}

export default { createRequire }
