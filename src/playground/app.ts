/**
 * The browser playground: paste a Sigma rule, see every target's query and the proof.
 *
 * It runs the library itself (src/index.ts), bundled by scripts/build-playground.mjs: the rule is
 * loaded and checked as the CLI loads it, compiled for each target and variant, rendered in each
 * output format, and the emitted text of each query is run by that target's verifier on sample
 * events — the rule's tests file when one is given, generated adversarial events otherwise — next
 * to the reference evaluator's answer. Nothing leaves the page.
 */
import {
  adversarialEvents,
  checkEquivalence,
  compile,
  evaluateRule,
  formatDiagnostic,
  formatsOf,
  kqlGate,
  loadBackend,
  loadRuleText,
  loadVerifier,
  readSampleTests,
  refusalKey,
  renderFormat,
  ruleVars,
  sortDiagnostics,
  type Diagnostic,
  type JsonEvent,
  type Rule,
  type TargetId,
  type TargetOptions,
} from '../index.js'
import { setVirtualFile } from './shims/fs.js'
import { highlight, type Mark } from './yaml-highlight.js'
import { EXAMPLES } from 'rulesmith-examples'
import { errorMessage, first, itemAt, must } from '../guards.js'

/** One tab per target and variant; a variant-less entry is the target's default (as the CLI runs it). */
interface Tab {
  readonly id: string
  readonly label: string
  readonly target: TargetId
  readonly options: TargetOptions
}
const TABS: readonly Tab[] = [
  { id: 'spl', label: 'Splunk SPL', target: 'spl', options: {} },
  { id: 'kql', label: 'KQL · Defender', target: 'kql', options: {} },
  { id: 'kql-sentinel', label: 'KQL · Sentinel', target: 'kql', options: { variant: 'sentinel' } },
  { id: 'eql', label: 'Elastic EQL', target: 'eql', options: {} },
  { id: 'osquery', label: 'osquery SQL', target: 'osquery', options: {} },
]

/** The names the page gives its two documents; diagnostics name them as the CLI names files. */
const RULE_FILE = 'rule.yml'
const TESTS_FILE = 'rule.tests.yml'
/** Generated events shown when no tests file is given: enough to show the edges, few enough to read. */
const GENERATED_EVENTS = 40

interface SampleRow {
  readonly name: string
  readonly event: JsonEvent
  /** What the tests file says (undefined for generated events). */
  readonly expect?: boolean
}

interface TabResult {
  readonly tab: Tab
  readonly query?: string
  readonly outputs: readonly { format: string; text: string }[]
  readonly diagnostics: readonly Diagnostic[]
  /** The refusal's reason, and whether the tests file declares it. */
  readonly refusal?: { reason: string; declared: boolean }
  readonly actual?: readonly boolean[]
  readonly unrepresentable: readonly number[]
  readonly mismatches: readonly number[]
  /** Microsoft's parser on the emitted KQL: undefined while loading or for other targets. */
  readonly parser?: readonly Diagnostic[]
}

const $ = <T extends HTMLElement>(selector: string): T => {
  const el = document.querySelector<T>(selector)
  if (!el) throw new Error(`playground: missing ${selector}`)
  return el
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  e.append(...children)
  return e
}

// ---------------------------------------------------------------------------------------------
// Editors: a textarea over a highlighted <pre>.

class Editor {
  readonly text: HTMLTextAreaElement
  private readonly view: HTMLElement
  private marks: Mark[] = []

  constructor(root: HTMLElement, onInput: () => void) {
    this.text = must(root.querySelector('textarea'), 'the editor markup has a textarea')
    this.view = must(root.querySelector('pre'), 'the editor markup has a pre')
    this.text.addEventListener('input', () => {
      this.render()
      onInput()
    })
    this.text.addEventListener('scroll', () => {
      this.view.scrollTop = this.text.scrollTop
      this.view.scrollLeft = this.text.scrollLeft
    })
  }

  get value(): string {
    return this.text.value
  }

  set value(v: string) {
    this.text.value = v
    this.render()
  }

  setMarks(marks: Mark[]): void {
    this.marks = marks
    this.render()
  }

  private render(): void {
    this.view.innerHTML = highlight(this.text.value, this.marks)
    this.view.scrollTop = this.text.scrollTop
  }
}

// ---------------------------------------------------------------------------------------------
// The rule in the URL: deflate-raw, base64url, in the hash (never sent to a server).

async function pack(text: string): Promise<string> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('deflate-raw'))
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer())
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

async function unpack(packed: string): Promise<string> {
  const bin = atob(packed.replace(/-/g, '+').replace(/_/g, '/'))
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate-raw'))
  return new Response(stream).text()
}

async function readHash(): Promise<{ rule: string; tests: string } | undefined> {
  const params = new URLSearchParams(location.hash.slice(1))
  const rule = params.get('rule')
  if (!rule) return undefined
  try {
    const tests = params.get('tests')
    return { rule: await unpack(rule), tests: tests ? await unpack(tests) : '' }
  } catch {
    return undefined
  }
}

async function writeHash(rule: string, tests: string): Promise<void> {
  const params = new URLSearchParams({ rule: await pack(rule) })
  if (tests.trim()) params.set('tests', await pack(tests))
  history.replaceState(null, '', '#' + params.toString())
}

// ---------------------------------------------------------------------------------------------
// Heavy parts, loaded on first use.

let kusto: Promise<void> | undefined

/** Microsoft's KQL parser: a Bridge.NET build that defines globals, so classic scripts, in order. */
function loadKustoParser(): Promise<void> {
  const script = (src: string) =>
    new Promise<void>((resolve, reject) => {
      const s = el('script', { src })
      s.onload = () => resolve()
      s.onerror = () => reject(new Error(`cannot load ${src}`))
      document.head.append(s)
    })
  kusto ??= script('kusto/bridge.min.js').then(() => script('kusto/Kusto.Language.Bridge.min.js'))
  return kusto
}

// ---------------------------------------------------------------------------------------------
// One run: load, compile, render, verify.

const firstSentence = (message: string): string => message.replace(/[;.] [Ss]upported.*$/, '')

function sampleRows(rule: Rule, testsText: string, diagnostics: Diagnostic[]): SampleRow[] {
  if (testsText.trim()) {
    setVirtualFile(TESTS_FILE, testsText)
    const { tests, diagnostics: td } = readSampleTests(TESTS_FILE)
    diagnostics.push(...td)
    return (tests?.events ?? []).map((e) => ({ name: e.name, event: e.event, expect: e.expect }))
  }
  setVirtualFile(TESTS_FILE, undefined)
  return adversarialEvents(rule.detection, GENERATED_EVENTS).map((event, i) => ({
    name: `generated #${i + 1}`,
    event,
  }))
}

async function runTab(tab: Tab, rule: Rule, rows: readonly SampleRow[], declared: Record<string, string>) {
  const { target, options } = tab
  const compiled = await compile(rule, target, options)
  const outputs: { format: string; text: string }[] = []
  const diagnostics: Diagnostic[] = [...compiled.diagnostics]
  if (compiled.query === undefined) {
    const reason = compiled.diagnostics.find((d) => d.severity === 'error')?.message ?? 'refused'
    const declaredReason = declared[refusalKey(target, options)]
    return {
      tab,
      outputs,
      diagnostics,
      refusal: { reason: firstSentence(reason), declared: declaredReason !== undefined },
      unrepresentable: [],
      mismatches: [],
    } satisfies TabResult
  }
  for (const format of formatsOf(target)) {
    try {
      const text = await renderFormat(
        target,
        { name: format },
        { rule: ruleVars(rule), query: compiled.query, target, context: compiled.context ?? {} },
      )
      outputs.push({ format, text })
    } catch (e) {
      outputs.push({ format, text: `(this format cannot hold this rule: ${errorMessage(e)})` })
    }
  }
  const eq = await checkEquivalence(
    rule,
    rows.map((r) => r.event),
    await loadBackend(target),
    await loadVerifier(target),
    options,
  )
  diagnostics.push(...eq.diagnostics.filter((d) => !compiled.diagnostics.includes(d)))
  return {
    tab,
    query: compiled.query,
    outputs,
    diagnostics: diagnostics.filter((d, i) => diagnostics.findIndex((x) => x.message === d.message) === i),
    ...(eq.actual ? { actual: eq.actual } : {}),
    unrepresentable: eq.unrepresentable,
    mismatches: eq.mismatches,
  } satisfies TabResult
}

// ---------------------------------------------------------------------------------------------
// Rendering.

let activeTab = first(TABS).id
const activeFormat = new Map<string, string>()

function renderDiagnostics(list: HTMLElement, diagnostics: readonly Diagnostic[]): void {
  list.replaceChildren(
    ...diagnostics.map((d) =>
      el('li', { class: `diag-line diag-${d.severity}`, 'data-code': d.code }, formatDiagnostic(d)),
    ),
  )
}

function renderTabs(results: readonly TabResult[]): void {
  const bar = $('#tabs')
  const panels = $('#panels')
  bar.replaceChildren(
    ...TABS.map((tab) => {
      const r = results.find((x) => x.tab.id === tab.id)
      const state = !r ? '' : r.refusal ? 'refused' : r.mismatches.length ? 'fail' : r.actual ? 'ok' : ''
      const b = el(
        'button',
        {
          role: 'tab',
          'data-tab': tab.id,
          class: `tab ${tab.id === activeTab ? 'active' : ''} ${state}`,
          'aria-selected': String(tab.id === activeTab),
        },
        tab.label,
      )
      b.addEventListener('click', () => {
        activeTab = tab.id
        renderTabs(results)
      })
      return b
    }),
  )
  panels.replaceChildren(
    ...results
      .filter((r) => r.tab.id === activeTab)
      .map((r) => {
        const panel = el('section', { class: 'panel', 'data-panel': r.tab.id })
        if (r.refusal) {
          panel.append(
            el(
              'p',
              { class: 'refusal' },
              el('strong', {}, 'Refused: '),
              r.refusal.reason,
              r.refusal.declared ? ' (declared in the tests file)' : '',
            ),
          )
        } else {
          const format = activeFormat.get(r.tab.id) ?? 'default'
          const shown = r.outputs.find((o) => o.format === format) ?? r.outputs[0]
          const formats = el(
            'div',
            { class: 'formats' },
            ...r.outputs.map((o) => {
              const b = el(
                'button',
                { class: `format ${o === shown ? 'active' : ''}`, 'data-format': o.format },
                o.format,
              )
              b.addEventListener('click', () => {
                activeFormat.set(r.tab.id, o.format)
                renderTabs(results)
              })
              return b
            }),
          )
          const copy = el('button', { class: 'copy' }, 'copy')
          copy.addEventListener('click', () => void navigator.clipboard?.writeText(shown?.text ?? ''))
          panel.append(
            el('div', { class: 'output-bar' }, formats, copy),
            el('pre', { class: 'query', 'data-output': r.tab.id }, shown?.text ?? r.query ?? ''),
          )
          if (r.tab.target === 'kql')
            panel.append(
              el(
                'p',
                { class: `parser ${r.parser === undefined ? 'pending' : r.parser.length ? 'fail' : 'ok'}` },
                r.parser === undefined
                  ? "Microsoft's KQL parser: loading…"
                  : r.parser.length
                    ? `Microsoft's KQL parser: ${r.parser.map((d) => d.message).join('; ')}`
                    : "Microsoft's KQL parser (Kusto.Language) parses and binds this query against the schema.",
              ),
            )
        }
        const others = r.diagnostics.filter((d) => !(r.refusal && d.severity === 'error'))
        if (others.length) {
          const list = el('ul', { class: 'diagnostics' })
          renderDiagnostics(list, others)
          panel.append(list)
        }
        return panel
      }),
  )
}

function verdict(r: TabResult, i: number, reference: boolean): { text: string; cls: string; why?: string } {
  if (r.refusal) return { text: 'refused', cls: 'refused', why: r.refusal.reason }
  if (!r.actual) return { text: '?', cls: 'unknown', why: 'the verifier could not run the query' }
  if (r.unrepresentable.includes(i))
    return {
      text: 'n/a',
      cls: 'unrepresentable',
      why: `no ${r.tab.label} record can hold this event as written; not compared`,
    }
  const got = itemAt(r.actual, i)
  if (got !== reference)
    return {
      text: got ? 'match ✗' : 'no match ✗',
      cls: 'mismatch',
      why: got ? 'the query selects this event, the rule does not' : 'the rule selects this event, the query does not',
    }
  return { text: got ? 'match' : '—', cls: got ? 'match' : 'nomatch' }
}

function renderEvents(rows: readonly SampleRow[], reference: readonly boolean[], results: readonly TabResult[]) {
  const head = el(
    'tr',
    {},
    el('th', {}, '#'),
    el('th', {}, 'event'),
    el('th', {}, 'reference'),
    ...TABS.map((t) => el('th', { 'data-col': t.id }, t.label)),
  )
  const explanations: string[] = []
  const body = rows.map((row, i) => {
    const ref = itemAt(reference, i)
    const expectOk = row.expect === undefined || row.expect === ref
    if (!expectOk)
      explanations.push(
        `event ${i + 1} (${row.name}): the tests file expects ${row.expect ? 'a match' : 'no match'}, the rule ${ref ? 'matches' : 'does not match'}`,
      )
    const cells = TABS.map((t) => {
      const r = results.find((x) => x.tab.id === t.id)
      if (!r) return el('td', { 'data-col': t.id, class: 'pending' }, '…')
      const v = verdict(r, i, ref)
      if (v.cls === 'mismatch') explanations.push(`event ${i + 1} (${row.name}), ${t.label}: ${v.why}`)
      return el('td', { 'data-col': t.id, class: v.cls, ...(v.why ? { title: v.why } : {}) }, v.text)
    })
    const summary = JSON.stringify(row.event)
    return el(
      'tr',
      { 'data-event': String(i) },
      el('td', {}, String(i + 1)),
      el('td', { class: 'event' }, el('div', { class: 'name' }, row.name), el('code', { title: summary }, summary)),
      el(
        'td',
        { 'data-col': 'reference', class: `${ref ? 'match' : 'nomatch'} ${expectOk ? '' : 'mismatch'}` },
        ref ? 'match' : '—',
      ),
      ...cells,
    )
  })
  for (const r of results)
    if (r.refusal)
      explanations.push(
        `${r.tab.label} refuses the rule: ${r.refusal.reason}${r.refusal.declared ? ' (declared)' : ''}`,
      )
  $('#events').replaceChildren(el('thead', {}, head), el('tbody', {}, ...body))
  $('#explanations').replaceChildren(...explanations.map((e) => el('li', {}, e)))
  $('#events-source').textContent = rows.some((r) => r.expect !== undefined)
    ? `${rows.length} events from the tests file`
    : `${rows.length} generated adversarial events (paste a tests file to use your own)`
}

// ---------------------------------------------------------------------------------------------

let runId = 0

async function run(ruleEditor: Editor, testsEditor: Editor): Promise<void> {
  const id = ++runId
  const status = $('#status')
  status.textContent = 'checking…'
  document.body.dataset['state'] = 'running'
  const stale = () => id !== runId
  const loaded = loadRuleText(ruleEditor.value, RULE_FILE)
  const diagnostics: Diagnostic[] = [...loaded.diagnostics]
  if (loaded.correlations.length || loaded.filters.length)
    diagnostics.push({
      code: 'input/no-rules',
      severity: 'warning',
      file: RULE_FILE,
      at: { line: 0, col: 0 },
      message: 'correlations and global filters are not shown in the playground yet; use the CLI',
    })
  const rule = loaded.rules[0]
  const rows = rule ? sampleRows(rule, testsEditor.value, diagnostics) : []
  const showDiagnostics = (extra: readonly Diagnostic[] = []) => {
    const all = sortDiagnostics([...diagnostics, ...extra])
    renderDiagnostics($('#diagnostics'), all)
    const marks = (file: string): Mark[] =>
      all
        .flatMap((d) => (d.file === file && d.at && !d.target ? [{ d, at: d.at }] : []))
        .map(({ d, at }) => ({
          line: at.line,
          col: at.col,
          severity: d.severity,
          message: formatDiagnostic(d),
        }))
    ruleEditor.setMarks(marks(RULE_FILE))
    testsEditor.setMarks(marks(TESTS_FILE))
  }
  showDiagnostics()
  if (!rule || diagnostics.some((d) => d.severity === 'error' && d.file === RULE_FILE)) {
    renderTabs([])
    $('#panels').replaceChildren(el('p', { class: 'empty' }, 'Fix the rule to see its queries.'))
    $('#events').replaceChildren()
    $('#explanations').replaceChildren()
    $('#events-source').textContent = ''
    status.textContent = diagnostics.some((d) => d.severity === 'error') ? 'the rule has errors' : 'no rule'
    finished(ruleEditor, testsEditor)
    return
  }
  const declared = readDeclared()
  const reference = rows.map((r) => evaluateRow(rule, r))
  const results: TabResult[] = []
  for (const tab of TABS) {
    const r = await runTab(tab, rule, rows, declared)
    if (stale()) return
    results.push(r)
    renderTabs(results)
    renderEvents(rows, reference, results)
  }
  // Microsoft's parser on each emitted KQL query, once its scripts are loaded.
  status.textContent = "loading Microsoft's KQL parser…"
  try {
    await loadKustoParser()
    for (const [i, r] of results.entries()) {
      if (r.tab.target !== 'kql' || r.query === undefined) continue
      results[i] = { ...r, parser: await kqlGate(rule, r.query, r.tab.options.variant) }
    }
  } catch (e) {
    for (const [i, r] of results.entries())
      if (r.tab.target === 'kql' && r.query !== undefined)
        results[i] = { ...r, parser: [{ code: 'verify/kql-parser', severity: 'error', message: errorMessage(e) }] }
  }
  if (stale()) return
  renderTabs(results)
  const failed = results.filter((r) => r.mismatches.length || r.parser?.length).length
  const refused = results.filter((r) => r.refusal).length
  const wrongExpectations = rows.filter((r, i) => r.expect !== undefined && r.expect !== reference[i]).length
  status.textContent = [
    failed
      ? `${failed} target(s) disagree with the rule`
      : `every ${refused ? 'emitted ' : ''}query selects exactly what the rule selects on ${rows.length} events`,
    ...(refused ? [`${refused} refused`] : []),
    ...(wrongExpectations ? [`${wrongExpectations} tests-file expectation(s) differ from the rule`] : []),
  ].join('; ')
  finished(ruleEditor, testsEditor)
}

/** The run is over: the page says so, and which texts it checked (the browser test waits on this). */
function finished(ruleEditor: Editor, testsEditor: Editor): void {
  Reflect.set(window, 'playgroundChecked', { rule: ruleEditor.value, tests: testsEditor.value })
  document.body.dataset['state'] = 'done'
}

function readDeclared(): Record<string, string> {
  const text = ($('#tests textarea') as HTMLTextAreaElement).value
  if (!text.trim()) return {}
  return { ...readSampleTests(TESTS_FILE).tests?.refused }
}

/**
 * The reference evaluator's answer (Sigma semantics, src/evaluate), as `rulesmith test` computes it:
 * an event that states another log source (`_logsource`, or a Windows Channel/EventID) is not selected.
 */
const evaluateRow = (rule: Rule, row: SampleRow): boolean => evaluateRule(rule, row.event)

async function main(): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      void writeHash(ruleEditor.value, testsEditor.value)
      void run(ruleEditor, testsEditor)
    }, 250)
  }
  const ruleEditor = new Editor($('#rule'), schedule)
  const testsEditor = new Editor($('#tests'), schedule)
  $('#examples').replaceChildren(
    ...EXAMPLES.map((x) => {
      const b = el(
        'button',
        { class: 'example', 'data-example': x.file },
        must(x.file.split('/').pop(), 'a non-empty stack').replace(/\.yml$/, ''),
      )
      b.addEventListener('click', () => {
        ruleEditor.value = x.rule
        testsEditor.value = x.tests
        schedule()
      })
      return b
    }),
  )
  const fromHash = await readHash()
  const initial = fromHash ?? { rule: first(EXAMPLES).rule, tests: first(EXAMPLES).tests }
  ruleEditor.value = initial.rule
  testsEditor.value = initial.tests
  document.body.dataset['ready'] = 'true'
  await run(ruleEditor, testsEditor)
}

void main()
