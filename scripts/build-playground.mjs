#!/usr/bin/env node
/**
 * Builds the browser playground (src/playground/) into dist/playground/: static files for any
 * static host, no server code.
 *
 * The seam between the library and the browser is this build, not the library: Node built-ins are
 * swapped for small shims (src/playground/shims/), and the data the library reads from disk at run
 * time (targets/<t>/*.yml, schemas, format templates, package.json) is embedded as the virtual
 * module `rulesmith-embedded-files`, which the fs shim serves. The CLI is built by tsc and never
 * sees any of it. The heavy parts stay out of the first load: each target's backend and verifier is
 * a lazy chunk (esbuild splits the library's own import() calls), SQLite is sql.js's wasm fetched on
 * the first osquery check, and Microsoft's KQL parser is two classic scripts loaded on the first
 * KQL check.
 *
 *   node scripts/build-playground.mjs [--out DIR]
 */
import { build } from 'esbuild'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outIndex = process.argv.indexOf('--out')
const out = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(root, 'dist', 'playground')
const src = join(root, 'src', 'playground')
const shims = join(src, 'shims')

/** Example rules one click away on the page: a rule and its tests file each. */
const EXAMPLES = [
  'rules/windows/process_creation/proc_creation_win_taskkill_critical_service_process.yml',
  'rules/windows/registry_set/registry_set_win_service_imagepath_changed.yml',
  'rules/linux/process_creation/proc_creation_lnx_critical_service_stop.yml',
  'rules/macos/process_creation/proc_creation_macos_kill_daemon.yml',
]

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    return statSync(full).isDirectory() ? walk(full) : [full]
  })
}

/** targets/** and the package's name and version, under the virtual package root /rulesmith. */
function embeddedFiles() {
  const files = {}
  for (const file of walk(join(root, 'targets')).sort())
    files['/rulesmith/' + relative(root, file).split('\\').join('/')] = readFileSync(file, 'utf8')
  const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  files['/rulesmith/package.json'] = JSON.stringify({ name, version })
  return files
}

function examples() {
  return EXAMPLES.map((file) => {
    const tests = file.replace(/\.yml$/, '.tests.yml')
    let testsText = ''
    try {
      testsText = readFileSync(join(root, tests), 'utf8')
    } catch {
      // An example without a tests file gets generated events on the page.
    }
    return { file, rule: readFileSync(join(root, file), 'utf8'), tests: testsText }
  })
}

const NODE_SHIMS = { fs: 'fs.ts', path: 'path.ts', url: 'url.ts', module: 'module.ts' }
// v8 and vm: src/bounded-regex.ts falls back to the plain engine when they throw (a page is its own sandbox).
const NODE_UNAVAILABLE = new Set(['crypto', 'zlib', 'worker_threads', 'os', 'child_process', 'v8', 'vm'])

const playgroundPlugin = {
  name: 'rulesmith-playground',
  setup(b) {
    b.onResolve(
      { filter: /^(node:)?(fs|path|url|module|crypto|zlib|worker_threads|os|child_process|v8|vm)$/ },
      (args) => {
        const name = args.path.replace(/^node:/, '')
        if (NODE_SHIMS[name]) return { path: join(shims, NODE_SHIMS[name]) }
        if (NODE_UNAVAILABLE.has(name)) return { path: name, namespace: 'unavailable' }
        return undefined
      },
    )
    // A CommonJS module, so any named import resolves; a call throws and names what is missing.
    b.onLoad({ filter: /.*/, namespace: 'unavailable' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, k) => typeof k === 'symbol' || k === '__esModule' ? undefined : () => { throw new Error('node:${args.path} ' + String(k) + ' is not available in the browser') } })`,
      loader: 'js',
    }))
    // grammars/chevrotain.ts locates chevrotain's bundle on disk; the browser imports it directly.
    b.onResolve({ filter: /\/chevrotain\.js$/ }, (args) =>
      args.importer.startsWith(join(root, 'grammars')) ? { path: join(shims, 'chevrotain.ts') } : undefined,
    )
    b.onResolve({ filter: /^rulesmith-(embedded-files|examples)$/ }, (args) => ({
      path: args.path,
      namespace: 'embedded',
    }))
    b.onLoad({ filter: /.*/, namespace: 'embedded' }, (args) => ({
      contents:
        args.path === 'rulesmith-embedded-files'
          ? `export const EMBEDDED_FILES = ${JSON.stringify(embeddedFiles())}`
          : `export const EXAMPLES = ${JSON.stringify(examples())}`,
      loader: 'js',
    }))
  },
}

export async function buildPlayground(outDir = out) {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const result = await build({
    entryPoints: { app: join(src, 'app.ts') },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    chunkNames: 'chunks/[name]-[hash]',
    // The library's own lazy import()s of sql.js resolve to its browser build.
    conditions: ['browser'],
    logLevel: 'warning',
    legalComments: 'none',
    plugins: [playgroundPlugin],
  })
  cpSync(join(src, 'index.html'), join(outDir, 'index.html'))
  cpSync(join(src, 'style.css'), join(outDir, 'style.css'))
  // sql.js fetches its wasm beside the page (emscripten's script directory).
  cpSync(join(root, 'node_modules/sql.js/dist/sql-wasm-browser.wasm'), join(outDir, 'sql-wasm-browser.wasm'))
  mkdirSync(join(outDir, 'kusto'), { recursive: true })
  for (const f of ['bridge.min.js', 'Kusto.Language.Bridge.min.js'])
    cpSync(join(root, 'node_modules/@kusto/language-service-next', f), join(outDir, 'kusto', f))
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(result.metafile))
  return outDir
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = await buildPlayground()
  process.stdout.write(`playground written to ${relative(process.cwd(), dir) || '.'}\n`)
}
