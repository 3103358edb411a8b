/**
 * The browser playground in a real browser: Debian's headless Chromium (/usr/bin/chromium, installed
 * by .ci/run) driven by playwright-core, against the static build served on 127.0.0.1.
 * The page must show what the library (and so the CLI) produces for the same rule: each target's
 * query text, the reference's and each verifier's answer per event, a refusal with its reason, and a
 * broken rule's diagnostic at the line and column the CLI reports. Screenshots go to test-output/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import {
  compile,
  evaluate,
  formatDiagnostic,
  loadRuleText,
  renderFormat,
  ruleVars,
  type TargetId,
  type TargetOptions,
} from '../../src/index.js'

// @ts-expect-error plain ESM build scripts without type declarations
import { buildPlayground } from '../../scripts/build-playground.mjs'
// @ts-expect-error plain ESM build scripts without type declarations
import { servePlayground } from '../../scripts/serve-playground.mjs'

const OUT = join(process.cwd(), 'test-output')
const TABS: { id: string; target: TargetId; options: TargetOptions }[] = [
  { id: 'spl', target: 'spl', options: {} },
  { id: 'kql', target: 'kql', options: {} },
  { id: 'kql-sentinel', target: 'kql', options: { variant: 'sentinel' } },
  { id: 'eql', target: 'eql', options: {} },
  { id: 'osquery', target: 'osquery', options: {} },
]

const RULE = `title: Whoami All Groups
id: 3f0b5d7e-0c53-4c1e-9a53-2f1d1b7b9f10
status: test
description: whoami run with /all or /groups
author: rulesmith tests
date: 2026-12-03
logsource:
  category: process_creation
  product: windows
detection:
  selection:
    Image|endswith: '\\whoami.exe'
    CommandLine|contains:
      - ' /all'
      - ' /groups'
  condition: selection
level: low
`

const TESTS = `rule: 3f0b5d7e-0c53-4c1e-9a53-2f1d1b7b9f10
match:
  - name: whoami /all
    event:
      Image: C:\\Windows\\System32\\whoami.exe
      CommandLine: whoami /all
nomatch:
  - name: whoami alone
    event:
      Image: C:\\Windows\\System32\\whoami.exe
      CommandLine: whoami
  - name: another image
    event:
      Image: C:\\Windows\\System32\\cmd.exe
      CommandLine: cmd /c whoami /all
`

let server: Server
let browser: Browser
let url: string

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true })
  const dir = (await buildPlayground()) as string
  server = (await servePlayground(dir, 0)) as Server
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  // Debian's chromium; --no-sandbox because CI runs as root in a container.
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
  // One page for all cases, as a user would edit: the heavy parts load once.
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(url)
  await page.waitForSelector('body[data-ready=true]')
})

afterAll(async () => {
  await browser?.close()
  await new Promise((ok) => (server ? server.close(ok) : ok(undefined)))
})

let page: Page
const errors: string[] = []

/** Paste the tests file, then the rule, and wait for the run that checked exactly these texts. */
async function paste(rule: string, tests: string): Promise<void> {
  // Each edit starts a (debounced) run; the page records the texts its last finished run checked.
  await page.locator('#tests textarea').fill(tests)
  await page.locator('#rule textarea').fill(rule)
  await page.waitForFunction(
    `(() => { const c = window.playgroundChecked; return document.body.dataset.state === 'done' && c !== undefined && c.rule === ${JSON.stringify(rule)} && c.tests === ${JSON.stringify(tests)} })()`,
  )
}

describe('playground in headless Chromium', () => {
  it('shows each target query as the library renders it, and the verdicts per event', async () => {
    await paste(RULE, TESTS)
    await page.waitForFunction(`!document.querySelector('#events td.pending')`)
    const rule = loadRuleText(RULE, 'rule.yml').rules[0]!
    for (const tab of TABS) {
      await page.locator(`#tabs button[data-tab="${tab.id}"]`).click()
      const compiled = await compile(rule, tab.target, tab.options)
      expect(compiled.query, tab.id).toBeDefined()
      const want = await renderFormat(
        tab.target,
        { name: 'default' },
        { rule: ruleVars(rule), query: compiled.query!, target: tab.target, context: compiled.context ?? {} },
      )
      expect(await page.locator(`pre[data-output="${tab.id}"]`).textContent(), tab.id).toBe(want)
      expect(want).toContain('whoami.exe')
    }
    // Microsoft's parser accepted both KQL variants.
    await page.locator('#tabs button[data-tab="kql-sentinel"]').click()
    await page.waitForSelector('.parser.ok')
    // Per event: the reference's answer, and every target agrees with it.
    const expected = ['match', '—', '—']
    const events = [
      { Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all' },
      { Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami' },
      { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c whoami /all' },
    ]
    expect(events.map((e) => (evaluate(rule.detection, e) ? 'match' : '—'))).toEqual(expected)
    for (const [i, want] of expected.entries()) {
      const row = page.locator(`#events tr[data-event="${i}"]`)
      expect(await row.locator('td[data-col="reference"]').textContent()).toBe(want)
      for (const tab of TABS) expect(await row.locator(`td[data-col="${tab.id}"]`).textContent(), tab.id).toBe(want)
    }
    expect(await page.locator('#status').textContent()).toBe(
      'every query selects exactly what the rule selects on 3 events',
    )
    await page.locator('#tabs button[data-tab="spl"]').click()
    await page.screenshot({ path: join(OUT, 'playground-valid.png') })
    // The link reproduces the rule.
    const link = page.url()
    expect(link).toContain('#rule=')
    const again = await browser.newPage()
    await again.goto(link)
    await again.waitForSelector('body[data-ready=true]')
    expect(await again.locator('#rule textarea').inputValue()).toBe(RULE)
    expect(await again.locator('#tests textarea').inputValue()).toBe(TESTS)
    await again.close()
    expect(errors).toEqual([])
  })

  it('underlines a broken rule at the line and column the CLI reports', async () => {
    const broken = RULE.replace("Image|endswith: '\\whoami.exe'", "Image|endswiht: '\\whoami.exe'")
    expect(broken).not.toBe(RULE)
    await paste(broken, '')
    const want = loadRuleText(broken, 'rule.yml').diagnostics.filter((d) => d.severity === 'error')
    expect(want.length).toBeGreaterThan(0)
    const first = want[0]!
    // The modifier's line (1-based 12), as the CLI prints it.
    expect(first.at!.line + 1).toBe(12)
    const shown = await page.locator('#diagnostics li.diag-error').allTextContents()
    expect(shown).toContain(formatDiagnostic(first))
    expect(formatDiagnostic(first)).toMatch(/^rule\.yml:12:\d+: error: /)
    const mark = page.locator('#rule mark.diag-error').first()
    expect(await mark.getAttribute('data-line')).toBe(String(first.at!.line + 1))
    expect(await mark.getAttribute('data-col')).toBe(String(first.at!.col + 1))
    expect(broken.split('\n')[first.at!.line]!.slice(first.at!.col)).toContain(await mark.textContent())
    expect(await page.locator('#panels').textContent()).toContain('Fix the rule')
    await page.screenshot({ path: join(OUT, 'playground-broken.png') })
    expect(errors).toEqual([])
  })

  it('shows a refusal per event with its reason, and a tests file that disagrees with the rule', async () => {
    const linux = RULE.replace('product: windows', 'product: linux').replace("'\\whoami.exe'", "'/whoami'")
    expect(linux).toContain("Image|endswith: '/whoami'")
    const tests = `match:
  - name: whoami /all
    event: { Image: /usr/bin/whoami, CommandLine: whoami /all }
  - name: wrongly expected
    event: { Image: /usr/bin/id, CommandLine: id }
nomatch:
  - name: whoami alone
    event: { Image: /usr/bin/whoami, CommandLine: whoami }
`
    await paste(linux, tests)
    await page.waitForFunction(`!document.querySelector('#events td.pending')`)
    const cells = await page.locator('#events td[data-col="kql-sentinel"]').allTextContents()
    expect(cells.length).toBeGreaterThan(0)
    expect(new Set(cells)).toEqual(new Set(['refused']))
    const compiled = await compile(loadRuleText(linux, 'rule.yml').rules[0]!, 'kql', { variant: 'sentinel' })
    expect(compiled.query).toBeUndefined()
    await page.locator('#tabs button[data-tab="kql-sentinel"]').click()
    const reason = compiled.diagnostics.find((d) => d.severity === 'error')!.message
    expect(reason).toContain('has no table for log source')
    expect(await page.locator('.refusal').textContent()).toBe(`Refused: ${reason.replace(/[;.] [Ss]upported.*$/, '')}`)
    const explanations = (await page.locator('#explanations').textContent()) ?? ''
    expect(explanations).toContain('KQL · Sentinel refuses the rule')
    expect(explanations).toContain('the tests file expects a match, the rule does not match')
    // The other targets still answer.
    expect(await page.locator('#events tr[data-event="0"] td[data-col="eql"]').textContent()).toBe('match')
    expect(await page.locator('#events tr[data-event="1"] td[data-col="reference"]').textContent()).toBe('—')
    await page.screenshot({ path: join(OUT, 'playground-refused.png') })
    expect(errors).toEqual([])
  })
})
