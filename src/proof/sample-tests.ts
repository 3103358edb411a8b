/**
 * Sample-event tests stored beside each rule (`<rule>.tests.yml`):
 *
 *   rule: <the rule's id>
 *   logsource: { product, category?, service? }  # optional: where the events below were logged
 *   match:     [{ name, source?, logsource?, event }]   # must be selected, by the rule and by every target
 *   nomatch:   [{ name, source?, logsource?, event }]   # must not be selected
 *   streams:   [{ name, events: [event…], expect: [{ group-by field: value }…] }]
 *                                           # correlations: time-stamped event streams and the groups
 *                                           # that must fire on each (none: `expect: []`); an event's
 *                                           # origin is its own Channel/EventID or `_logsource`, else
 *                                           # the file's logsource:, else the log source all the
 *                                           # referenced rules read
 *   refused:   { osquery: "why" }            # targets expected to refuse the rule, with the reason;
 *                                           # `kql/sentinel: "why"` for one variant of a target
 *                                           # (a bare `kql:` is the target's default variant)
 *
 * An event's origin (src/origin.ts) is its own `Channel`/`EventID`, else the item's `logsource:`,
 * else the file's, else the rule's. Each rule's events run through the reference evaluator
 * (expected match / no match) and through each target's verifier on the emitted query
 * (equivalence with the evaluator, event by event).
 */
import { existsSync } from 'node:fs'
import { readInputFile } from '../input-file.js'
import { limits } from '../limits.js'
import { error, warning, type Diagnostic } from '../diagnostics.js'
import type { Pos } from '../ast/nodes.js'
import { evaluateRule } from '../evaluate/evaluate.js'
import { ORIGIN_KEY, originOf, withOrigin } from '../origin.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import { parseYaml } from '../rule/yaml.js'
import { TARGET_IDS, type TargetId, type TargetOptions } from '../target-ids.js'
import { loadBackend } from '../backends/index.js'
import type { LeftOut } from '../verify/types.js'
import { loadVerifier } from '../verify/index.js'
import { located } from './equivalence.js'
import { isMap, isOneOf, itemAt } from '../guards.js'

export interface SampleEvent {
  readonly name: string
  readonly source?: string
  readonly event: JsonEvent
  readonly expect: boolean
  readonly at?: Pos
}

/** A correlation's test: a stream of time-stamped events and the groups expected to fire on it. */
export interface SampleStream {
  readonly name: string
  readonly source?: string
  readonly events: readonly JsonEvent[]
  /** Where each event is written, for diagnostics. */
  readonly eventsAt: readonly (Pos | undefined)[]
  readonly expect: readonly Readonly<Record<string, string>>[]
  readonly at?: Pos
}

export interface SampleTests {
  readonly file: string
  readonly rule?: string
  readonly events: readonly SampleEvent[]
  readonly streams: readonly SampleStream[]
  /** Expected refusals by `target` (its default variant) or `target/variant`. */
  readonly refused: Readonly<Record<string, string>>
}

export const testsFileFor = (ruleFile: string): string => ruleFile.replace(/\.ya?ml$/i, '.tests.yml')

/**
 * The refusals a rule's tests file declares, by `target` or `target/variant` (empty when it has
 * no tests file or the file is broken: `rulesmith test` reports those).
 */
export function declaredRefusals(ruleFile: string): Readonly<Record<string, string>> {
  const file = testsFileFor(ruleFile)
  if (!existsSync(file)) return {}
  return readSampleTests(file).tests?.refused ?? {}
}

/** The key a refusal is declared under: the bare target for its default variant. */
export const refusalKey = (target: TargetId, options: TargetOptions): string =>
  options.variant ? `${target}/${options.variant}` : target

export function readSampleTests(file: string): { tests?: SampleTests; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const read = readInputFile(file, 'tests file')
  if ('diagnostic' in read) return { diagnostics: [read.diagnostic] }
  const { documents, error: yamlError } = parseYaml(read.text, {
    maxDocuments: limits().documents,
    maxNodes: limits().aliasExpansion,
  })
  if (yamlError)
    return {
      diagnostics: [
        yamlError.code
          ? error(yamlError.code, yamlError.message, yamlError.at, file)
          : error('yaml/syntax', `invalid YAML: ${yamlError.message}`, yamlError.at, file),
      ],
    }
  const doc = documents[0]
  const raw = doc?.value
  if (!doc || !isMap(raw))
    return {
      diagnostics: [
        error(
          'test/invalid',
          'a tests file must be a YAML map with match:, nomatch: and optionally rule: and refused:',
          { line: 0, col: 0 },
          file,
        ),
      ],
    }
  for (const k of Object.keys(raw))
    if (!['rule', 'logsource', 'match', 'nomatch', 'streams', 'refused'].includes(k))
      diagnostics.push(
        error(
          'test/invalid',
          `unknown key '${k}' (expected rule, logsource, match, nomatch, streams, refused)`,
          doc.locate([k])?.key,
          file,
        ),
      )
  /** A `logsource:` value: a map of product/category/service strings, or why it is not one. */
  const logsourceOf = (v: unknown, path: (string | number)[]): Record<string, string> | undefined => {
    const entries = isMap(v) ? Object.entries(v) : []
    const texts = entries.flatMap(([k, x]) =>
      ['product', 'category', 'service'].includes(k) && typeof x === 'string' ? [[k, x] as const] : [],
    )
    if (entries.length === 0 || texts.length !== entries.length) {
      diagnostics.push(
        error(
          'test/invalid',
          'logsource must be a map of product, category and service (strings)',
          doc.locate(path)?.value,
          file,
        ),
      )
      return undefined
    }
    return Object.fromEntries(texts)
  }
  const fileLogsource = raw['logsource'] === undefined ? undefined : logsourceOf(raw['logsource'], ['logsource'])
  const events: SampleEvent[] = []
  for (const key of ['match', 'nomatch'] as const) {
    const list = raw[key]
    if (list === undefined) continue
    if (!Array.isArray(list)) {
      diagnostics.push(
        error('test/invalid', `${key} must be a list of { name, event }`, doc.locate([key])?.value, file),
      )
      continue
    }
    list.forEach((item, i) => {
      const at = doc.locate([key, i])?.value
      const it: unknown = item
      const event = isMap(it) ? it['event'] : undefined
      if (!isMap(it) || !isMap(event)) {
        diagnostics.push(error('test/invalid', `${key}[${i}] must have an event: map`, at, file))
        return
      }
      if (Object.prototype.hasOwnProperty.call(event, ORIGIN_KEY)) {
        diagnostics.push(
          error(
            'test/invalid',
            `${key}[${i}]: write the origin as logsource: beside event:, not as ${ORIGIN_KEY}`,
            at,
            file,
          ),
        )
        return
      }
      const itemLogsource =
        it['logsource'] === undefined ? fileLogsource : logsourceOf(it['logsource'], [key, i, 'logsource'])
      events.push({
        name: typeof it['name'] === 'string' ? it['name'] : `${key}[${i}]`,
        ...(typeof it['source'] === 'string' ? { source: it['source'] } : {}),
        // The event's own Channel/EventID come first; else the stated log source.
        event: itemLogsource && !originOf(event) ? { ...event, [ORIGIN_KEY]: itemLogsource } : event,
        expect: key === 'match',
        ...(at ? { at } : {}),
      })
    })
  }
  const refused: Record<string, string> = {}
  const r = raw['refused']
  if (r !== undefined) {
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      diagnostics.push(
        error('test/invalid', 'refused must be a map of target to reason', doc.locate(['refused'])?.value, file),
      )
    else
      for (const [k, reason] of Object.entries(r)) {
        const [target, variant, extra] = k.split('/')
        if (!isOneOf(TARGET_IDS, target) || variant === '' || extra !== undefined)
          diagnostics.push(
            error(
              'test/invalid',
              `refused: '${k}' is not a target (${TARGET_IDS.join(', ')}) or target/variant`,
              doc.locate(['refused', k])?.key,
              file,
            ),
          )
        else refused[k] = String(reason)
      }
  }
  const streams: SampleStream[] = []
  const rawStreams = raw['streams']
  if (rawStreams !== undefined) {
    if (!Array.isArray(rawStreams))
      diagnostics.push(
        error(
          'test/invalid',
          'streams must be a list of { name, events, expect }',
          doc.locate(['streams'])?.value,
          file,
        ),
      )
    else
      rawStreams.forEach((item, i) => {
        const at = doc.locate(['streams', i])?.value
        const it: unknown = item
        const evs = isMap(it) ? it['events'] : undefined
        const expect = isMap(it) ? it['expect'] : undefined
        const isGroup = (g: unknown): g is Record<string, unknown> =>
          isMap(g) && Object.values(g).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
        if (!isMap(it) || !Array.isArray(evs) || !evs.every(isMap)) {
          diagnostics.push(error('test/invalid', `streams[${i}] must have events: a list of event maps`, at, file))
          return
        }
        if (!Array.isArray(expect) || !expect.every(isGroup)) {
          diagnostics.push(
            error(
              'test/invalid',
              `streams[${i}] must have expect: a list of groups ({ group-by field: value }), [] when nothing fires`,
              doc.locate(['streams', i, 'expect'])?.value ?? at,
              file,
            ),
          )
          return
        }
        streams.push({
          name: typeof it['name'] === 'string' ? it['name'] : `streams[${i}]`,
          ...(typeof it['source'] === 'string' ? { source: it['source'] } : {}),
          // The file's `logsource:` is the origin of each event that states none.
          events: evs.map((e) => (fileLogsource && !originOf(e) ? { ...e, [ORIGIN_KEY]: fileLogsource } : e)),
          eventsAt: evs.map((_, j) => doc.locate(['streams', i, 'events', j])?.value),
          expect: expect.map((g) =>
            Object.fromEntries(Object.entries(g).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
          ),
          ...(at ? { at } : {}),
        })
      })
  }
  if (events.length === 0 && streams.length === 0)
    diagnostics.push(
      error(
        'test/invalid',
        'a tests file needs at least one event under match: or nomatch:, or a stream under streams:',
        doc.at,
        file,
      ),
    )
  return {
    tests: { file, ...(typeof raw['rule'] === 'string' ? { rule: raw['rule'] } : {}), events, streams, refused },
    diagnostics,
  }
}

/**
 * A target refused a rule or correlation: its status, and (unless the tests file declares the
 * refusal) the backend's diagnostics as errors. Shared by rule and correlation tests.
 */
export function refusedStatus(
  compileDiagnostics: readonly Diagnostic[],
  expectedRefusal: string | undefined,
  diagnostics: Diagnostic[],
): TargetStatus {
  const reason = compileDiagnostics.find((d) => d.severity === 'error')
  if (expectedRefusal === undefined)
    diagnostics.push(...compileDiagnostics.map((d) => ({ ...d, severity: 'error' as const })))
  return {
    kind: 'refused',
    reason: reason ? `${reason.message} [${reason.code}]` : 'refused',
    expected: expectedRefusal !== undefined,
  }
}

export type TargetStatus =
  | { readonly kind: 'ok'; readonly events: number }
  | { readonly kind: 'refused'; readonly reason: string; readonly expected: boolean }
  | { readonly kind: 'fail'; readonly failures: number }

export interface RuleTestResult {
  readonly rule: Rule
  readonly testsFile?: string
  readonly events: number
  /** Events where the reference evaluator disagrees with the expectation. */
  readonly referenceFailures: number
  readonly targets: Readonly<Partial<Record<TargetId, TargetStatus>>>
  /** Per target that ran the query: how many events it was given and the ones it left out, with why. */
  readonly leftOut?: Readonly<
    Partial<Record<TargetId, { readonly events: number; readonly leftOut: readonly LeftOut[] }>>
  >
  readonly diagnostics: readonly Diagnostic[]
}

/** Run one rule's sample events through the evaluator and the given targets. */
export async function testRule(
  rule: Rule,
  targets: readonly TargetId[],
  optionsFor: (t: TargetId) => TargetOptions,
): Promise<RuleTestResult> {
  const file = testsFileFor(rule.file)
  if (!existsSync(file)) {
    return {
      rule,
      events: 0,
      referenceFailures: 0,
      targets: {},
      diagnostics: [warning('test/no-samples', `no sample events: create ${file}`, rule.at, rule.file)],
    }
  }
  const { tests, diagnostics } = readSampleTests(file)
  if (!tests) return { rule, testsFile: file, events: 0, referenceFailures: 0, targets: {}, diagnostics }
  if (tests.rule !== undefined && rule.id !== undefined && tests.rule !== rule.id) {
    diagnostics.push(
      error(
        'test/invalid',
        `this tests file is for rule ${tests.rule}, but ${rule.file} has id ${rule.id}`,
        { line: 0, col: 0 },
        file,
      ),
    )
    return { rule, testsFile: file, events: 0, referenceFailures: 0, targets: {}, diagnostics }
  }
  let referenceFailures = 0
  const events = withOrigin(
    tests.events.map((s) => s.event),
    rule.logsource,
  )
  for (const [i, s] of tests.events.entries()) {
    const got = evaluateRule(rule, itemAt(events, i))
    if (got !== s.expect) {
      referenceFailures++
      diagnostics.push(
        error(
          s.expect ? 'test/expected-match' : 'test/unexpected-match',
          `'${s.name}': the rule ${s.expect ? 'does not select this event, but it is listed under match' : 'selects this event, but it is listed under nomatch'}`,
          s.at,
          file,
        ),
      )
    }
  }
  const statuses: Partial<Record<TargetId, TargetStatus>> = {}
  const leftOut: Partial<Record<TargetId, { events: number; leftOut: readonly LeftOut[] }>> = {}
  for (const t of targets) {
    const options = optionsFor(t)
    const compiled = (await loadBackend(t)).compile(rule, options)
    // `kql/sentinel` when the run names a variant; the bare target key is its default variant.
    const key = refusalKey(t, options)
    const expectedRefusal = tests.refused[key]
    if (compiled.query === undefined) {
      statuses[t] = refusedStatus(compiled.diagnostics, expectedRefusal, diagnostics)
      continue
    }
    if (expectedRefusal !== undefined) {
      diagnostics.push(
        error(
          'test/expected-refusal',
          `${key} compiles this rule, but the tests file lists it under refused ("${expectedRefusal}"); remove that line`,
          rule.at,
          file,
        ),
      )
    }
    const verified = await (await loadVerifier(t)).verify(compiled.query, events, options)
    diagnostics.push(...located(verified, rule, t))
    const matches = verified.matches
    if (!matches) {
      statuses[t] = { kind: 'fail', failures: events.length }
      continue
    }
    leftOut[t] = { events: events.length, leftOut: verified.leftOut ?? [] }
    let failures = 0
    const skip = new Set(verified.unrepresentable ?? [])
    tests.events.forEach((s, i) => {
      if (skip.has(i)) {
        diagnostics.push({
          ...warning(
            'test/unrepresentable-event',
            `${t}: '${s.name}' cannot be a record of the target's schema as written (e.g. text in an integer field); not compared`,
            s.at,
            file,
          ),
          target: t,
        })
        return
      }
      const want = evaluateRule(rule, itemAt(events, i))
      if (matches[i] !== want) {
        failures++
        diagnostics.push({
          ...error(
            'verify/mismatch',
            `${t}: '${s.name}' is ${matches[i] ? 'selected by the query but not by the rule' : 'selected by the rule but not by the query'}`,
            s.at,
            file,
          ),
          target: t,
        })
      }
    })
    statuses[t] = failures ? { kind: 'fail', failures } : { kind: 'ok', events: events.length - skip.size }
  }
  return { rule, testsFile: file, events: events.length, referenceFailures, targets: statuses, leftOut, diagnostics }
}
