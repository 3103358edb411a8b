/**
 * Correlations in the commands: which rules still stand alone (`generate`), a correlation matched
 * through a target's compiled query, and a correlation's stream tests (its tests file's `streams:`)
 * through the reference and every target.
 */
import { existsSync } from 'node:fs'
import type { TargetId, TargetOptions } from '../backends/types.js'
import { error, warning, type Diagnostic } from '../diagnostics.js'
import { correlate, type Correlated } from '../evaluate/correlate.js'
import { logSourceStatement, withOrigin } from '../origin.js'
import type { JsonEvent, LogSource, Rule } from '../rule/rule.js'
import { readSampleTests, refusalKey, refusedStatus, testsFileFor, type TargetStatus } from '../proof/sample-tests.js'
import type { ResolvedCorrelation } from './resolve.js'
import { correlationTarget, type FiringGroup } from './targets.js'
import { itemAt } from '../guards.js'

/**
 * The rules to compile and match on their own: all but those only correlations refer to. Spec,
 * "Generate": referenced rules are converted stand-alone only if the correlation says so; the
 * default is the correlation query alone.
 */
export function standaloneRules(rules: readonly Rule[], correlations: readonly ResolvedCorrelation[]): Rule[] {
  const hidden = new Set<Rule>()
  const shown = new Set<Rule>()
  for (const rc of correlations)
    for (const m of rc.members) if (m.kind === 'rule') (rc.correlation.generate ? shown : hidden).add(m.rule)
  return rules.filter((r) => !hidden.has(r) || shown.has(r))
}

/** The log source that every rule a correlation refers to (through referenced correlations) reads, when there is one. */
export function commonLogSource(
  rc: ResolvedCorrelation,
  all: readonly ResolvedCorrelation[] = [rc],
): LogSource | undefined {
  const seen = new Map<string, LogSource>()
  const visit = (r: ResolvedCorrelation, depth: number): void => {
    for (const m of r.members) {
      if (m.kind === 'rule') {
        const ls = m.rule.logsource
        const key = JSON.stringify(Object.entries(logSourceStatement(ls)).map(([k, v]) => [k, v.toLowerCase()]))
        seen.set(key, ls)
      } else if (depth < all.length) {
        const inner = all.find((x) => x.correlation === m.correlation)
        if (inner) visit(inner, depth + 1)
      }
    }
  }
  visit(rc, 0)
  return seen.size === 1 ? [...seen.values()][0] : undefined
}

/**
 * Events as a correlation runs on them, in the reference and on every target alike: an event that
 * states no origin is taken to come from the log source all the referenced rules read (as
 * `withOrigin` does for a rule alone); where they read several, it is left as it is (the reference
 * then tries it against every rule; a target's verifier places it nowhere, so a tests file states
 * each event's origin: `_logsource` or a Windows record's Channel and EventID).
 */
export function withCorrelationOrigin(
  events: readonly JsonEvent[],
  rc: ResolvedCorrelation,
  all: readonly ResolvedCorrelation[] = [rc],
): readonly JsonEvent[] {
  const ls = commonLogSource(rc, all)
  return ls ? withOrigin(events, ls) : events
}

const groupKey = (g: Readonly<Record<string, string>>, names: readonly string[]) =>
  JSON.stringify(names.map((n) => g[n] ?? null))

/** `match --target`: the correlation compiled, and its text evaluated by the target's verifier. */
export async function matchCorrelationOnTarget(
  t: TargetId,
  rc: ResolvedCorrelation,
  events: readonly JsonEvent[],
  options: TargetOptions,
): Promise<{ correlated?: Correlated; diagnostics: Diagnostic[] }> {
  const target = await correlationTarget(t)
  const compiled = await target.compile(rc, options)
  if (compiled.query === undefined) return { diagnostics: [...compiled.diagnostics] }
  events = withCorrelationOrigin(events, rc)
  const verified = await target.verify(compiled.query, events, options)
  if (!verified.groups) return { diagnostics: [...compiled.diagnostics, ...verified.diagnostics] }
  // The target says which groups fire; the events shown are the reference's window for that group.
  const reference = correlate(rc, events)
  const names = rc.correlation.groupBy
  const windows = new Map(reference.matches.map((m) => [groupKey(m.group, names), m]))
  return {
    correlated: {
      matches: verified.groups.map((g) => {
        const w = windows.get(groupKey(g.group, names))
        return { group: g.group, events: w?.events ?? [], start: w?.start ?? 0, end: w?.end ?? 0 }
      }),
      timeless: reference.timeless,
    },
    diagnostics: [...compiled.diagnostics, ...verified.diagnostics],
  }
}

export interface CorrelationTestResult {
  readonly rule: { readonly file: string; readonly id?: string; readonly title: string }
  readonly testsFile?: string
  readonly events: number
  readonly referenceFailures: number
  readonly targets: Readonly<Partial<Record<TargetId, TargetStatus>>>
  readonly diagnostics: readonly Diagnostic[]
}

const describeGroups = (gs: readonly FiringGroup[] | readonly Readonly<Record<string, string>>[]) =>
  gs.length === 0
    ? 'no group'
    : gs.map((g) => JSON.stringify('group' in g && typeof g.group === 'object' ? g.group : g)).join(', ')

/** Run a correlation's streams through the reference and the given targets. */
export async function testCorrelation(
  rc: ResolvedCorrelation,
  all: readonly ResolvedCorrelation[],
  targets: readonly TargetId[],
  optionsFor: (t: TargetId) => TargetOptions,
): Promise<CorrelationTestResult> {
  const c = rc.correlation
  const rule = { file: c.file, title: c.title, ...(c.id !== undefined ? { id: c.id } : {}) }
  const file = testsFileFor(c.file)
  if (!existsSync(file))
    return {
      rule,
      events: 0,
      referenceFailures: 0,
      targets: {},
      diagnostics: [warning('test/no-samples', `no sample event streams: create ${file}`, c.at, c.file)],
    }
  const { tests, diagnostics } = readSampleTests(file)
  if (!tests) return { rule, testsFile: file, events: 0, referenceFailures: 0, targets: {}, diagnostics }
  const key = c.id ?? c.name
  if (tests.rule !== undefined && key !== undefined && tests.rule !== c.id && tests.rule !== c.name) {
    diagnostics.push(
      error(
        'test/invalid',
        `this tests file is for ${tests.rule}, but ${c.file} has id ${key}`,
        { line: 0, col: 0 },
        file,
      ),
    )
    return { rule, testsFile: file, events: 0, referenceFailures: 0, targets: {}, diagnostics }
  }
  if (tests.streams.length === 0)
    diagnostics.push(
      error('test/invalid', 'a correlation is tested with event streams: add streams:', { line: 0, col: 0 }, file),
    )
  const names = c.groupBy
  let referenceFailures = 0
  const streams = tests.streams.map((s) => ({ ...s, events: withCorrelationOrigin(s.events, rc, all) }))
  const references = streams.map((s) => {
    const r = correlate(rc, s.events, all)
    for (const tl of r.timeless)
      diagnostics.push(error('test/no-time', `'${s.name}': event ${tl.message}`, s.eventsAt[tl.index] ?? s.at, file))
    const got = r.matches.map((m) => groupKey(m.group, names)).sort()
    const want = s.expect.map((g) => groupKey(g, names)).sort()
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      referenceFailures++
      diagnostics.push(
        error(
          'test/expected-groups',
          `'${s.name}': the correlation fires for ${describeGroups(r.matches.map((m) => m.group))}, but the stream expects ${describeGroups(s.expect)}`,
          s.at,
          file,
        ),
      )
    }
    return got
  })
  const statuses: Partial<Record<TargetId, TargetStatus>> = {}
  const events = tests.streams.reduce((n, s) => n + s.events.length, 0)
  for (const t of targets) {
    const options = optionsFor(t)
    const target = await correlationTarget(t)
    const compiled = await target.compile(rc, options)
    const refusal = refusalKey(t, options)
    const expectedRefusal = tests.refused[refusal]
    if (compiled.query === undefined) {
      statuses[t] = refusedStatus(compiled.diagnostics, expectedRefusal, diagnostics)
      continue
    }
    if (expectedRefusal !== undefined)
      diagnostics.push(
        error(
          'test/expected-refusal',
          `${refusal} compiles this correlation, but the tests file lists it under refused ("${expectedRefusal}"); remove that line`,
          c.at,
          file,
        ),
      )
    let failures = 0
    let checked = 0
    for (const [i, s] of streams.entries()) {
      const verified = await target.verify(compiled.query, s.events, options)
      diagnostics.push(...verified.diagnostics.map((d) => ({ ...d, file: d.file ?? file, at: d.at ?? s.at })))
      if (!verified.groups) {
        failures++
        continue
      }
      if (verified.unrepresentable?.length) {
        diagnostics.push({
          ...warning(
            'test/unrepresentable-event',
            `${t}: '${s.name}' holds events no ${t} record can be as written (events ${verified.unrepresentable.join(', ')}); the stream is not compared`,
            s.at,
            file,
          ),
          target: t,
        })
        continue
      }
      checked += s.events.length
      const got = verified.groups.map((g) => groupKey(g.group, names)).sort()
      if (JSON.stringify(got) !== JSON.stringify(references[i])) {
        failures++
        diagnostics.push({
          ...error(
            'verify/mismatch',
            `${t}: '${s.name}': the query fires for ${describeGroups(verified.groups)}, the correlation for ${itemAt(references, i).length ? itemAt(references, i).join(', ') : 'no group'}`,
            s.at,
            file,
          ),
          target: t,
        })
      }
    }
    statuses[t] = failures ? { kind: 'fail', failures } : { kind: 'ok', events: checked }
  }
  return { rule, testsFile: file, events, referenceFailures, targets: statuses, diagnostics }
}
