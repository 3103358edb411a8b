/**
 * Load, compile and render a list of rule files for a set of targets: the work behind
 * `rulesmith compile`, returning each rule's identity and per-target artifact or refusal.
 *
 * Worker threads were measured here and rejected: on this project's 2-core machines two workers
 * each took as long for half the corpus as one thread for all of it (V8's parallel garbage
 * collector already keeps the second core busy), so the run got no faster.
 */
import type { Pos } from './ast/nodes.js'
import { must } from './guards.js'
import { compile } from './api.js'
import type { TargetId, TargetOptions } from './backends/types.js'
import { error, warning, type Diagnostic } from './diagnostics.js'
import { UnsafeTextError } from './formats/escape.js'
import { formatFindings } from './formats/findings.js'
import { detectionName, duplicateNames } from './formats/identity.js'
import { renderFormat, ruleVars, TemplateError, type FormatVars, type RuleVars } from './formats/render.js'
import { crossFileChecks, failedCorrelations, loadFile, type OtherDocument } from './rule/load.js'
import type { Correlation, Filter } from './correlation/model.js'
import { resolveDocuments, type ResolvedCorrelation } from './correlation/resolve.js'
import { standaloneRules } from './correlation/run.js'
import { correlationTarget } from './correlation/targets.js'
import { correlationSummary, correlationVars } from './correlation/vars.js'
import type { Rule } from './rule/rule.js'

export interface CompilePlan {
  readonly targets: readonly TargetId[]
  /** Per target: the format to render (a shipped name) or a template file. */
  readonly formats: Readonly<Partial<Record<TargetId, { name?: string; file?: string }>>>
  readonly options: Readonly<Partial<Record<TargetId, TargetOptions>>>
  readonly placeholders: Readonly<Record<string, readonly string[]>>
  /** Per target: settings from `.rulesmith.yml` the formats read (bundle/build.ts formatSettings). */
  readonly formatSettings?: Readonly<Partial<Record<TargetId, Readonly<Record<string, unknown>>>>>
  /**
   * Called once every file is loaded, before the first compile, with the rules and correlations
   * in the order they will be compiled and returned.
   */
  readonly onItems?: (items: readonly RuleSummary[]) => void
  /** Called as each of them is compiled (index into `onItems`' list): `compile --out` writes it then. */
  readonly onCompiled?: (index: number, compiled: CompiledRule) => void
}

/** What the caller needs of a rule once it is compiled: its identity, not its AST. */
export interface RuleSummary {
  readonly file: string
  readonly at: Pos
  readonly idAt?: Pos
  readonly id?: string
  readonly title: string
}

export interface TargetResult {
  /** The rendered artifact; absent when the target refused the rule. */
  readonly text?: string
  /** The detection's name in the format's destination (a stanza, a rule id), when it has one. */
  readonly name?: string
  readonly diagnostics: readonly Diagnostic[]
}

export interface CompiledRule {
  readonly rule: RuleSummary
  readonly results: Readonly<Partial<Record<TargetId, TargetResult>>>
}

export interface CompiledFiles {
  readonly rules: readonly CompiledRule[]
  readonly diagnostics: readonly Diagnostic[]
}

const summary = (r: Rule): RuleSummary => ({
  file: r.file,
  at: r.at,
  title: r.title,
  ...(r.id !== undefined ? { id: r.id } : {}),
  ...(r.idAt ? { idAt: r.idAt } : {}),
})

/** Compile every file in order, one rule after another, then run the checks that span files. */
export async function compileFiles(files: readonly string[], plan: CompilePlan): Promise<CompiledFiles> {
  const rules: CompiledRule[] = []
  const others: OtherDocument[] = []
  const diagnostics: Diagnostic[] = []
  const loadedRules: Rule[] = []
  const correlations: Correlation[] = []
  const filters: Filter[] = []
  for (const file of files) {
    const loaded = loadFile(file, { placeholders: plan.placeholders })
    diagnostics.push(...loaded.diagnostics)
    others.push(...loaded.others)
    loadedRules.push(...loaded.rules)
    correlations.push(...loaded.correlations)
    filters.push(...loaded.filters)
  }
  // Global filters fold into the rules they name, wherever they are written; a rule only
  // correlations refer to is compiled as part of them (spec, "generate").
  const resolution = resolveDocuments(loadedRules, correlations, filters, failedCorrelations(others, correlations))
  diagnostics.push(...resolution.diagnostics)
  const items: Array<{ identity: RuleSummary; vars: RuleVars; rule?: Rule; correlation?: ResolvedCorrelation }> = [
    ...standaloneRules(resolution.rules, resolution.correlations).map((rule) => ({
      identity: summary(rule),
      vars: ruleVars(rule),
      rule,
    })),
    ...resolution.correlations.map((rc) => ({
      identity: correlationSummary(rc),
      vars: correlationVars(rc),
      correlation: rc,
    })),
  ]
  plan.onItems?.(items.map((i) => i.identity))
  {
    for (const { identity, vars: ruleVarsOf, rule, correlation } of items) {
      const at = identity.at
      const file = identity.file
      const results: Partial<Record<TargetId, TargetResult>> = {}
      for (const t of plan.targets) {
        const compiled = correlation
          ? await (await correlationTarget(t)).compile(correlation, plan.options[t] ?? {})
          : await compile(must(rule, 'an item without a correlation has a rule'), t, plan.options[t] ?? {})
        if (compiled.query === undefined) {
          results[t] = { diagnostics: compiled.diagnostics }
          continue
        }
        const format = plan.formats[t] ?? { name: 'default' }
        const vars: FormatVars = {
          rule: ruleVarsOf,
          query: compiled.query,
          target: t,
          context: { ...compiled.context, ...plan.formatSettings?.[t] },
        }
        try {
          const text = await renderFormat(t, format, vars)
          const name = format.file ? undefined : detectionName(t, format.name ?? 'default', vars)
          const findings = format.file ? [] : formatFindings(t, format.name ?? 'default', vars)
          results[t] = {
            text,
            diagnostics: [
              ...compiled.diagnostics,
              ...findings.map((f) => ({ ...warning(f.code, f.message, at, file), target: t })),
            ],
            ...(name !== undefined ? { name } : {}),
          }
        } catch (e) {
          if (e instanceof UnsafeTextError) {
            const d = error('format/unsafe-text', `${t}: ${e.message}`, at, file)
            results[t] = { diagnostics: [...compiled.diagnostics, { ...d, target: t }] }
            continue
          }
          if (!(e instanceof TemplateError)) throw e
          // The same broken template fails every rule the same way: one diagnostic after sorting.
          results[t] = {
            diagnostics: [...compiled.diagnostics, { ...error('config/template', e.message, e.at, e.file), target: t }],
          }
        }
      }
      const compiled: CompiledRule = { rule: identity, results }
      plan.onCompiled?.(rules.length, compiled)
      rules.push(compiled)
    }
  }
  // Every rule, whether compiled on its own or only inside a correlation; correlations are in `others`.
  diagnostics.push(...crossFileChecks(resolution.rules.map(summary), others))
  // Two detections with one name in one output replace each other where they are imported.
  for (const t of plan.targets) {
    const named = rules.flatMap(({ rule, results }) => {
      const name = results[t]?.name
      return name === undefined ? [] : [{ name, file: rule.file, at: rule.at, title: rule.title }]
    })
    diagnostics.push(...duplicateNames(t, plan.formats[t]?.name ?? 'default', named))
  }
  return { rules, diagnostics }
}
