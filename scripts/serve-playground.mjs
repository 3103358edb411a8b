#!/usr/bin/env node
/**
 * `npm run playground`: builds the playground and serves dist/playground/ on 127.0.0.1 only
 * (never on other interfaces). A static file server and nothing else: the page needs no server.
 *
 *   node scripts/serve-playground.mjs [--port N] [--no-build]      (port 0: any free port)
 */
import { createServer } from 'node:http'
import { readFile } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { buildPlayground } from './build-playground.mjs'

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
}

/** Serve `dir` on 127.0.0.1:`port`; resolves to the server once it listens. */
export function servePlayground(dir, port = 0) {
  const base = resolve(dir)
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)
    const file = normalize(join(base, path.endsWith('/') ? path + 'index.html' : path))
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end()
      return
    }
    try {
      const body = await readFile(file)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      res.end(body)
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    }
  })
  return new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(port, '127.0.0.1', () => ok(server))
  })
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const args = process.argv.slice(2)
  const portAt = args.indexOf('--port')
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 8080
  const dir = args.includes('--no-build') ? resolve('dist/playground') : await buildPlayground()
  const server = await servePlayground(dir, port)
  process.stdout.write(`rulesmith playground: http://127.0.0.1:${server.address().port}/\n`)
}
