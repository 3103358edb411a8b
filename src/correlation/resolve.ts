/**
 * The checks that need every document given together: a correlation's references (by `id` or
 * `name`, across files), cycles among correlations, aliases, group-by and aggregated fields that
 * a referenced rule does not have, conditions that the number of referenced rules makes
 * impossible; and each global filter attached to the rules it names. Diagnostics point at the
 * reference or key they are about.
 */
import { and, fieldsOf } from '../ast/nodes.js'
import { error, warning, type Diagnostic, type DiagnosticCode } from '../diagnostics.js'
import type { Rule } from '../rule/rule.js'
import { conditionDomain, satisfiable } from './load.js'
import { timeFieldOf, HOST_FIELD } from './event-time.js'
import type { Correlation, Filter, Reference } from './model.js'
import { itemAt, mustGet } from '../guards.js'

export type Referenced =
  { readonly kind: 'rule'; readonly rule: Rule } | { readonly kind: 'correlation'; readonly correlation: Correlation }

/** A correlation with its references resolved, in the order it lists them. */
export interface ResolvedCorrelation {
  readonly correlation: Correlation
  readonly members: readonly Referenced[]
}

export interface Resolution {
  /** The rules, each with the global filters that name it folded into its detection. */
  readonly rules: readonly Rule[]
  /** Correlations whose references all resolve and that are not part of a cycle. */
  readonly correlations: readonly ResolvedCorrelation[]
  readonly diagnostics: readonly Diagnostic[]
}

const nameOf = (d: Referenced): string | undefined => (d.kind === 'rule' ? d.rule.name : d.correlation.name)
const labelOf = (d: Referenced): string =>
  d.kind === 'rule'
    ? (d.rule.id ?? d.rule.name ?? d.rule.title)
    : (d.correlation.id ?? d.correlation.name ?? d.correlation.title)

export function resolveDocuments(
  rules: readonly Rule[],
  correlations: readonly Correlation[],
  filters: readonly Filter[],
  /** Ids and names of correlation documents that failed their own checks: already reported, not unknown. */
  failed: ReadonlySet<string> = new Set(),
): Resolution {
  const out: Diagnostic[] = []
  const byKey = new Map<string, Referenced>()
  const names = new Map<string, { file: string; line: number }>()
  const docs: Referenced[] = [
    ...rules.map((rule) => ({ kind: 'rule' as const, rule })),
    ...correlations.map((correlation) => ({ kind: 'correlation' as const, correlation })),
  ]
  for (const d of docs) {
    const src = d.kind === 'rule' ? d.rule : d.correlation
    if (src.id !== undefined && !byKey.has(src.id)) byKey.set(src.id, d)
    if (src.name !== undefined) {
      const first = names.get(src.name)
      if (first)
        out.push(
          error(
            'rule/duplicate-name',
            `name '${src.name}' is also used by ${first.file}:${first.line + 1}; a name must identify one rule`,
            src.at,
            src.file,
          ),
        )
      else {
        names.set(src.name, { file: src.file, line: src.at.line })
        if (!byKey.has(src.name)) byKey.set(src.name, d)
      }
    }
  }
  const filterKeys = new Set(filters.flatMap((f) => [f.id, f.name].filter((k): k is string => k !== undefined)))

  const lookup = (ref: Reference, file: string, code: DiagnosticCode): Referenced | undefined => {
    const found = byKey.get(ref.ref)
    if (!found && !failed.has(ref.ref))
      out.push(
        error(
          code,
          filterKeys.has(ref.ref)
            ? `'${ref.ref}' is a filter; only rules and correlations can be referenced here`
            : `no rule or correlation has the id or name '${ref.ref}' among the files given`,
          ref.at,
          file,
        ),
      )
    return found
  }

  // References.
  const members = new Map<Correlation, (Referenced | undefined)[]>()
  for (const c of correlations)
    members.set(
      c,
      c.rules.map((r) => lookup(r, c.file, 'correlation/unknown-rule')),
    )

  // Cycles: a correlation that reaches itself through its references never produces an event.
  const broken = new Set<Correlation>()
  const state = new Map<Correlation, 'open' | 'done'>()
  const visit = (c: Correlation, path: Correlation[]) => {
    if (state.get(c) === 'done') return
    state.set(c, 'open')
    mustGet(members, c).forEach((m, i) => {
      if (m?.kind !== 'correlation') return
      const next = m.correlation
      if (state.get(next) === 'open') {
        const loop = [...path.slice(path.indexOf(next)), c, next].map((x) => x.name ?? x.id ?? x.title)
        out.push(
          error(
            'correlation/cycle',
            `correlations refer to each other in a cycle: ${loop.join(' → ')}`,
            itemAt(c.rules, i).at,
            c.file,
          ),
        )
        for (const x of path.slice(path.indexOf(next))) broken.add(x)
        broken.add(c)
      } else visit(next, [...path, c])
    })
    state.set(c, 'done')
  }
  for (const c of correlations) visit(c, [])

  const resolved: ResolvedCorrelation[] = []
  const referencedCorrelations = new Set<Correlation>()
  for (const c of correlations) {
    const ms = mustGet(members, c)
    for (const m of ms) if (m?.kind === 'correlation') referencedCorrelations.add(m.correlation)
    const before = out.length
    checkMembers(c, ms, out)
    if (ms.every((m) => m !== undefined) && !broken.has(c) && out.length === before)
      resolved.push({ correlation: c, members: ms as Referenced[] })
  }
  // Spec, "Correlation rules": "only the outermost correlation rule may define meta information
  // such as status, level, date".
  for (const c of referencedCorrelations)
    for (const k of ['status', 'level', 'date', 'modified'])
      if (k in c.raw)
        out.push(
          warning(
            'correlation/inner-meta',
            `'${k}' of a correlation that another correlation refers to has no effect; only the outermost correlation defines it`,
            c.at,
            c.file,
          ),
        )
  // A correlation that failed its own checks drops its dependants quietly: their error is upstream.
  const ok = new Set(resolved.map((r) => r.correlation))
  let changed = true
  while (changed) {
    changed = false
    // A snapshot: the loop removes from `resolved`.
    for (const r of resolved.slice())
      if (r.members.some((m) => m.kind === 'correlation' && !ok.has(m.correlation))) {
        ok.delete(r.correlation)
        resolved.splice(resolved.indexOf(r), 1)
        changed = true
      }
  }

  return { rules: applyFilters(rules, filters, byKey, out), correlations: resolved, diagnostics: out }
}

/** Fields a rule's events are known to carry: what its detection tests, its `fields:`, its log source's time and host. */
function knownFields(rule: Rule): Set<string> {
  return new Set([...fieldsOf(rule.detection), ...rule.fields, timeFieldOf(rule.logsource).field, HOST_FIELD])
}

function checkMembers(c: Correlation, ms: readonly (Referenced | undefined)[], out: Diagnostic[]) {
  // Conditions impossible for this many rules (temporal: the count of different rules in a window).
  if (c.type === 'temporal') {
    const domain = conditionDomain(c.type, c.rules.length)
    if (c.condition.length && !satisfiable(c.condition, domain))
      out.push(
        error('correlation/unsatisfiable', `the condition can never hold: ${domain.what}`, c.where.condition, c.file),
      )
  }
  // Aliases name referenced rules by their `name` (spec, "Field Name Aliases").
  const memberNames = new Set(ms.map((m) => (m ? nameOf(m) : undefined)).filter((n): n is string => n !== undefined))
  for (const [alias, map] of Object.entries(c.aliases))
    for (const ruleName of Object.keys(map))
      if (!memberNames.has(ruleName))
        out.push(
          error(
            'correlation/alias-rule',
            `alias '${alias}' maps '${ruleName}', which is not the name of a rule this correlation refers to${memberNames.size ? ` (${[...memberNames].join(', ')})` : ''}`,
            c.where.aliases[alias]?.[ruleName] ?? c.at,
            c.file,
          ),
        )
  const fieldIn = (g: string, m: Referenced): string | undefined => {
    const alias = c.aliases[g]
    if (!alias) return g
    const n = nameOf(m)
    return n !== undefined ? alias[n] : undefined
  }
  const check = (g: string, at: { line: number; col: number }, role: string, code: DiagnosticCode) => {
    ms.forEach((m) => {
      if (!m) return
      const f = fieldIn(g, m)
      if (f === undefined) {
        out.push(
          error(
            'correlation/alias-incomplete',
            `alias '${g}' says nothing of ${labelOf(m)}${nameOf(m) ? ` (name '${nameOf(m)}')` : ' (it has no name; aliases need one)'}; map it to that rule's field`,
            at,
            c.file,
          ),
        )
        return
      }
      if (m.kind === 'correlation') {
        if (!m.correlation.groupBy.includes(f))
          out.push(
            error(
              code,
              `${role} '${f}' is not carried by correlation ${labelOf(m)}: its matches hold only its group-by fields (${m.correlation.groupBy.join(', ') || 'none'})`,
              at,
              c.file,
            ),
          )
      } else if (!knownFields(m.rule).has(f))
        out.push(
          error(
            code,
            `${role} '${f}' is absent from rule ${labelOf(m)}: it neither tests nor lists it (fields:), and it is not its log source's time or host field`,
            at,
            c.file,
          ),
        )
    })
  }
  c.groupBy.forEach((g, i) => check(g, c.where.groupBy[i] ?? c.at, 'group-by field', 'correlation/group-by-field'))
  if (c.field !== undefined) check(c.field, c.where.field ?? c.at, 'condition field', 'correlation/condition-field')
}

function applyFilters(
  rules: readonly Rule[],
  filters: readonly Filter[],
  byKey: ReadonlyMap<string, Referenced>,
  out: Diagnostic[],
): Rule[] {
  const added = new Map<Rule, Filter[]>()
  const sameSource = (f: Filter, r: Rule) =>
    Object.entries(f.logsource).every(
      ([k, v]) =>
        (Object.entries(r.logsource).find(([key]) => key === k)?.[1] ?? '').toLowerCase() === String(v).toLowerCase(),
    )
  for (const f of filters) {
    if (f.rules.length === 0) {
      // No rules named: every rule of the filter's log source.
      for (const r of rules) if (sameSource(f, r)) added.set(r, [...(added.get(r) ?? []), f])
      continue
    }
    for (const ref of f.rules) {
      const found = byKey.get(ref.ref)
      if (!found) {
        out.push(
          error('filter/unknown-rule', `no rule has the id or name '${ref.ref}' among the files given`, ref.at, f.file),
        )
        continue
      }
      if (found.kind === 'correlation') {
        out.push(
          error(
            'filter/unknown-rule',
            `'${ref.ref}' is a correlation; a filter applies to detection rules`,
            ref.at,
            f.file,
          ),
        )
        continue
      }
      if (!sameSource(f, found.rule)) {
        out.push(
          error(
            'filter/logsource-mismatch',
            `the filter's logsource (${describeSource(f.logsource)}) is not that of rule ${labelOf(found)} (${describeSource(found.rule.logsource)})`,
            ref.at,
            f.file,
          ),
        )
        continue
      }
      added.set(found.rule, [...(added.get(found.rule) ?? []), f])
    }
  }
  if (added.size === 0) return [...rules]
  return rules.map((r) => {
    const fs = added.get(r)
    if (!fs) return r
    return {
      ...r,
      detection: and([r.detection, ...fs.map((f) => f.detection)]),
      filters: fs.map((f) => f.id ?? f.title),
    }
  })
}

const describeSource = (ls: object) =>
  Object.entries(ls)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ')
