#!/usr/bin/env node
/**
 * The playground's page weight and time to interactive, in Debian's headless Chromium.
 * Builds dist/playground/, serves it on 127.0.0.1, loads the page with the cache disabled and
 * counts every response's bytes (as served, uncompressed) by kind: what loads before the page is
 * usable (the editor filled, the rule loaded and checked by the library) and what loads later, on
 * first use (targets' chunks, SQLite's wasm, Microsoft's KQL parser). Times are from navigation
 * start: `interactive` = the editor holds the rule and answers input; `queries` = every target's
 * query shown; `checked` = every verifier and Microsoft's parser done.
 *
 *   node bench/playground.mjs [--runs N]
 */
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { buildPlayground } from '../scripts/build-playground.mjs'
import { servePlayground } from '../scripts/serve-playground.mjs'

const runsAt = process.argv.indexOf('--runs')
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3
const dir = await buildPlayground()
const server = await servePlayground(dir, 0)
const url = `http://127.0.0.1:${server.address().port}/`
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })

const kind = (u) =>
  u.endsWith('.wasm') ? 'wasm' : u.endsWith('.css') ? 'css' : u === '' || u.endsWith('.html') ? 'html' : 'js'
const times = []
let weights
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const responses = []
  let phase = 'initial'
  page.on('response', async (r) => {
    const p = phase
    try {
      const body = await r.body()
      responses.push({ url: r.url().replace(url, ''), bytes: body.length, gzip: gzipSync(body).length, phase: p })
    } catch {
      // a response without a body (a redirect); nothing to count
    }
  })
  const start = Date.now()
  await page.goto(url)
  await page.waitForSelector('body[data-ready=true]')
  const interactive = Date.now() - start
  phase = 'lazy'
  await page.waitForSelector('pre[data-output]')
  await page.waitForFunction(`!document.querySelector('#events td.pending')`)
  const queries = Date.now() - start
  await page.waitForSelector('body[data-state=done]')
  const checked = Date.now() - start
  times.push({ interactive, queries, checked })
  await new Promise((ok) => setTimeout(ok, 200))
  weights = responses
  await context.close()
}
await browser.close()
server.close()

const sum = (xs) => xs.reduce((n, x) => n + x.bytes, 0)
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`
console.log('| loaded | html | css | js | wasm | total | total gzipped |')
console.log('|---|---|---|---|---|---|---|')
for (const phase of ['initial', 'lazy']) {
  const rs = weights.filter((r) => r.phase === phase)
  const by = (k) => kb(sum(rs.filter((r) => kind(r.url) === k)))
  const gz = kb(rs.reduce((n, r) => n + r.gzip, 0))
  console.log(`| ${phase} | ${by('html')} | ${by('css')} | ${by('js')} | ${by('wasm')} | ${kb(sum(rs))} | ${gz} |`)
}
console.log('\ninitial files:')
for (const r of weights.filter((r) => r.phase === 'initial').sort((a, b) => b.bytes - a.bytes))
  console.log(`  ${r.url || 'index.html'}  ${kb(r.bytes)}`)
console.log('\nlazy parts (largest first):')
for (const r of weights
  .filter((r) => r.phase === 'lazy')
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, 8))
  console.log(`  ${r.url}  ${kb(r.bytes)}`)
const med = (k) => times.map((t) => t[k]).sort((a, b) => a - b)[Math.floor(times.length / 2)]
console.log(
  `\n${runs} runs, median ms: interactive ${med('interactive')}, queries shown ${med('queries')}, all checked ${med('checked')}`,
)
console.log('runs:', JSON.stringify(times))
