/**
 * The library API the CLI itself uses: validate paths, compile rules for targets, evaluate.
 * No printing, no exit codes: results and diagnostics as data.
 */
import { resolve } from 'node:path'
import type { Diagnostic } from './diagnostics.js'
import { DEFAULT_CONFIG, targetOptions, type Config, type Policy } from './config.js'
import { loadBackend } from './backends/index.js'
import type { Compiled, TargetId, TargetOptions } from './backends/types.js'
import { crossFileChecks, loadClashCandidates, loadPaths, type OtherDocument } from './rule/load.js'
import type { Rule } from './rule/rule.js'
import type { Node } from './ast/nodes.js'
import { errorMessage } from './guards.js'

export interface ValidateOptions {
  readonly config?: Config
  /** Also load the rules under these folders, for checks that span files (duplicate ids and titles). */
  readonly allFrom?: readonly string[]
  /** Compile each rule for the config's targets (default true). */
  readonly compile?: boolean
  /** Called after each compile: `done` of `total` (rules × targets), for a progress bar. */
  readonly onProgress?: (done: number, total: number) => void
}

export interface ValidateResult {
  readonly files: readonly string[]
  readonly rules: readonly Rule[]
  readonly others: readonly OtherDocument[]
  readonly diagnostics: readonly Diagnostic[]
  /** Target refusals the rules' tests files declare (`refused:`), counted and not reported. */
  readonly declaredRefusals: number
}

export { targetOptions }

/** Schema and semantic checks of every rule under `paths`, then a compile for every target. */
export async function validate(paths: readonly string[], options: ValidateOptions = {}): Promise<ValidateResult> {
  const config = options.config ?? DEFAULT_CONFIG
  // The KQL gate's child, if it will be needed, starts before the rules are loaded and compiled
  // (src/verify/kql-gate-cache.ts; the CLI has asked already, before this module loaded).
  const kqlOptions = targetOptions(config, 'kql')
  const early =
    options.compile !== false && config.targets.includes('kql')
      ? await (
          await import('./verify/kql-gate-cache.js')
        ).startKqlGateEarly(paths, kqlOptions.variant, JSON.stringify(kqlOptions))
      : undefined
  const loaded = loadPaths(paths, { placeholders: config.placeholders })
  // The regex analysis is imported only when a rule has a regex (start-up of `validate --no-compile`).
  const withRegex = loaded.rules.filter((r) => hasRegex(r.detection))
  const { regexWarnings } = withRegex.length ? await import('./regex/warnings.js') : { regexWarnings: undefined }
  let diagnostics = [...loaded.diagnostics, ...(regexWarnings ? withRegex.flatMap(regexWarnings) : [])]
  let declared = 0
  // The compile's findings, kept apart until the cross-file checks are in: the repository is read
  // for those while the KQL gate's child (if a miss started one) checks this file's queries.
  const compileDiagnostics: Diagnostic[] = []
  const gates: { at: number; found: Promise<Diagnostic[]>; file: string }[] = []
  if (options.compile !== false) {
    // Imported here: `validate --no-compile` (the pre-commit path) never loads them.
    const { declaredRefusals, refusalKey } = await import('./proof/sample-tests.js')
    const { standaloneRules } = await import('./correlation/run.js')
    const { correlationTarget } = await import('./correlation/targets.js')
    const standalone = standaloneRules(loaded.rules, loaded.resolved)
    const total = config.targets.length * (standalone.length + loaded.resolved.length)
    let done = 0
    const refusals = new Map(standalone.map((r) => [r, declaredRefusals(r.file)]))
    // The KQL gate's answers are awaited after the compiles and put back where each query was
    // compiled: when the gate runs in a child process (src/verify/kql-gate-snapshot.ts) it checks
    // while this process compiles the next rules, and no compile waits on a round trip.
    const gated = (found: Promise<Diagnostic[]>, file: string) => {
      found.catch(() => undefined) // handled below, by Promise.all
      gates.push({ at: compileDiagnostics.length, found, file })
    }
    for (const target of config.targets) {
      const options_ = targetOptions(config, target)
      // Correlations compile for every target too; a declared refusal is counted, not repeated.
      for (const rc of loaded.resolved) {
        const compiled = await (await correlationTarget(target)).compile(rc, options_)
        const isDeclared =
          compiled.query === undefined &&
          declaredRefusals(rc.correlation.file)[refusalKey(target, options_)] !== undefined
        if (isDeclared) declared++
        compileDiagnostics.push(...applyPolicy(isDeclared ? [] : compiled.diagnostics, config.unsupported))
        if (target === 'kql' && compiled.query !== undefined)
          gated(correlationGate(rc.correlation, compiled.query, options_.variant), rc.correlation.file)
        options.onProgress?.(++done, total)
      }
      for (const rule of standalone) {
        const compiled = await compile(rule, target, options_)
        // A refusal the rule's tests file declares, with its reason, is known and checked by
        // `rulesmith test`; validate counts it instead of repeating it as a finding.
        const isDeclared =
          compiled.query === undefined && refusals.get(rule)?.[refusalKey(target, options_)] !== undefined
        if (isDeclared) declared++
        const ds = isDeclared
          ? compiled.diagnostics.filter((d) => !(d.code.startsWith('target/') && d.severity === 'error'))
          : compiled.diagnostics
        compileDiagnostics.push(...applyPolicy(ds, config.unsupported))
        if (target === 'kql' && compiled.query !== undefined)
          gated(kqlGate(rule, compiled.query, options_.variant), rule.file)
        options.onProgress?.(++done, total)
      }
    }
  }
  if (options.allFrom?.length) {
    // One turn of the event loop first, so a gate miss has reached its child before the
    // repository is read (synchronously) for the cross-file checks.
    if (gates.length > 0) await new Promise((settled) => setImmediate(settled))
    // Cross-file checks against the whole repository, reported only for the files given.
    const given = new Set(loaded.files.map((f) => resolve(f)))
    // Only the repository's files that can clash with the given ids and titles are loaded in full.
    const wanted = {
      ids: new Set([...loaded.rules, ...loaded.others].flatMap((r) => (r.id !== undefined ? [r.id] : []))),
      titles: new Set(loaded.rules.map((r) => r.title.toLowerCase())),
    }
    const {
      rules: others,
      others: otherDocs,
      diagnostics: unreadable,
    } = loadClashCandidates(options.allFrom, wanted, given, { placeholders: config.placeholders })
    diagnostics.push(...unreadable)
    diagnostics = diagnostics.filter((d) => d.code !== 'rule/duplicate-id' && d.code !== 'rule/duplicate-title')
    // The repository's other rules come first, so a duplicate is reported on the given (changed) file.
    const cross = crossFileChecks([...others, ...loaded.rules], [...otherDocs, ...loaded.others])
    diagnostics.push(...cross.filter((d) => d.file !== undefined && given.has(resolve(d.file))))
  }
  if (options.compile !== false) {
    const found = await Promise.all(gates.map((g) => g.found))
    // Backwards, so each insertion leaves the earlier positions as they were.
    for (const [i, g] of [...gates.entries()].reverse()) compileDiagnostics.splice(g.at, 0, ...(found[i] ?? []))
    if (config.targets.includes('kql')) {
      const gate = await import('./verify/kql-gate-cache.js')
      // The files whose queries all passed: the next run of the same files starts no child early.
      if (early) {
        const failed = new Set(gates.flatMap((g, i) => ((found[i] ?? []).length > 0 ? [resolve(g.file)] : [])))
        gate.rememberPassedFiles([...early].flatMap(([file, key]) => (failed.has(file) ? [] : [key])))
      }
      // The KQL gate's child process, if one was started, ends with the run (src/verify/kql-gate-snapshot.ts).
      await gate.closeKqlGate()
    }
  }
  diagnostics.push(...compileDiagnostics)
  return { files: loaded.files, rules: loaded.rules, others: loaded.others, diagnostics, declaredRefusals: declared }
}

/** The KQL gate on a correlation's query: its errors reported on the correlation. */
async function correlationGate(
  correlation: { readonly file: string; readonly at?: Diagnostic['at'] },
  query: string,
  variant?: string,
): Promise<Diagnostic[]> {
  const { checkKqlOnce } = await import('./verify/kql-gate-cache.js')
  return (await checkKqlOnce(query, variant)).map((d) => ({
    ...d,
    code: 'verify/kql-parser',
    severity: 'error' as const,
    file: correlation.file,
    at: correlation.at,
    message: `${d.message}; line ${(d.at?.line ?? 0) + 1}, column ${(d.at?.col ?? 0) + 1} of the emitted correlation query`,
  }))
}

/**
 * Every KQL query is parsed and bound by Microsoft's own parser against the declared tables; an
 * error there is a bug of the compile, so it stays an error whatever the refusal policy says. A
 * query the parser accepted before (same text, schema and parser) is not parsed again
 * (src/verify/kql-gate-cache.ts).
 */
export async function kqlGate(rule: Rule, query: string, variant?: string): Promise<Diagnostic[]> {
  // Imported on the first KQL query: `validate --no-compile` never needs it.
  const { checkKqlOnce } = await import('./verify/kql-gate-cache.js')
  const found = await checkKqlOnce(query, variant)
  return found.map((d) => ({
    ...d,
    code: 'verify/kql-parser',
    severity: 'error' as const,
    file: rule.file,
    at: rule.at,
    message: `${d.message}; line ${(d.at?.line ?? 0) + 1}, column ${(d.at?.col ?? 0) + 1} of the emitted query`,
  }))
}

/** A target's refusal is an error, a warning or nothing, as the config says; other diagnostics keep theirs. */
export function applyPolicy(ds: readonly Diagnostic[], policy: Policy): Diagnostic[] {
  return ds.flatMap((d) => {
    // Only refusals follow the policy; a target's warnings (approximate fields) stay warnings.
    if (!d.code.startsWith('target/') || d.severity !== 'error') return [d]
    if (policy === 'ignore') return []
    return [{ ...d, severity: policy }]
  })
}

/** Compile one rule for one target. A crash inside a backend is a diagnostic, not an exception. */
export async function compile(rule: Rule, target: TargetId, options: TargetOptions = {}): Promise<Compiled> {
  const backend = await loadBackend(target)
  try {
    return backend.compile(rule, options)
  } catch (e) {
    return {
      diagnostics: [
        {
          code: 'internal/crash',
          severity: 'error',
          target,
          file: rule.file,
          at: rule.at,
          message: `${target}: internal error while compiling (please report): ${errorMessage(e)}`,
        },
      ],
    }
  }
}

/** Whether a detection holds a `|re` value anywhere. */
function hasRegex(n: Node): boolean {
  if (n.kind === 'And' || n.kind === 'Or') return n.items.some(hasRegex)
  if (n.kind === 'Not') return hasRegex(n.item)
  return n.kind === 'Regex'
}
