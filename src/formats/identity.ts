/**
 * The name each shipped format gives a detection in the system that imports it. Two rules with one
 * name in one output would replace each other there (a second `[stanza]` in savedsearches.conf
 * overrides the first setting by setting), so a run that would write such a pair fails and names
 * both rules.
 */
import type { Pos } from '../ast/nodes.js'
import { error, type Diagnostic } from '../diagnostics.js'
import { confStanza, jsonText, templateText } from './escape.js'
import { presentation } from './presentation.js'
import type { FormatVars } from './render.js'

type Namer = (vars: FormatVars) => string | undefined

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const ctx = (vars: FormatVars, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k): unknown => (o && typeof o === 'object' ? Reflect.get(o, k) : undefined), vars.context)

/** target/format → what the name is called there, and how it is derived from the template's variables. */
const NAMES: Readonly<Record<string, { what: string; fix: string; name: Namer }>> = {
  'spl/savedsearches': {
    what: 'savedsearches.conf stanza',
    fix: 'change one title',
    name: (v) => confStanza(templateText(ctx(v, 'savedsearch', 'stanza'))),
  },
  'spl/savedsearches-core': {
    what: 'savedsearches.conf stanza',
    fix: 'change one title',
    name: (v) => confStanza(templateText(ctx(v, 'savedsearch', 'stanza'))),
  },
  'kql/sentinel': { what: 'Sentinel analytics rule id', fix: 'change one id', name: (v) => str(v.rule.id) },
  'kql/arm': { what: 'Sentinel alert rule name', fix: 'change one id', name: (v) => str(v.rule.id)?.toLowerCase() },
  'kql/defender': { what: 'Defender custom detection name', fix: 'change one title', name: (v) => str(v.rule.title) },
  'eql/elastic': {
    what: 'Elastic rule_id',
    fix: 'give each rule its own id',
    name: (v) => str(v.rule.id) ?? v.rule.file,
  },
  'osquery/pack': {
    what: 'osquery pack query name',
    fix: "change one title (or 'name:')",
    name: (v) => str(ctx(v, 'name')),
  },
  'osquery/fleet': { what: 'Fleet query name', fix: "change one title (or 'name:')", name: (v) => str(ctx(v, 'name')) },
}

/** The detection's name in a shipped format, or undefined (a bare query, a user's template). */
export function detectionName(target: string, format: string, vars: FormatVars): string | undefined {
  const namer = NAMES[`${target}/${format}`]
  if (!namer) return undefined
  // The context the template sees: the backend's facts and the format's presentation values.
  return namer.name({ ...vars, context: { ...vars.context, ...presentation(target, vars.rule, vars.context) } })
}

export interface Named {
  readonly name: string
  readonly file: string
  readonly at: Pos
  readonly title: string
}

/** One error per rule whose name an earlier rule (in input order) already has, naming both. */
export function duplicateNames(target: string, format: string, named: readonly Named[]): Diagnostic[] {
  const { what, fix } = NAMES[`${target}/${format}`] ?? { what: 'name', fix: 'rename one' }
  const first = new Map<string, Named>()
  const out: Diagnostic[] = []
  for (const n of named) {
    const earlier = first.get(n.name)
    if (!earlier) {
      first.set(n.name, n)
      continue
    }
    out.push({
      ...error(
        'format/duplicate-name',
        `${target} format '${format}': ${what} ${jsonText(n.name)} is also the ${what} of ${earlier.file}:${earlier.at.line + 1}:${earlier.at.col + 1} (title ${jsonText(earlier.title)}); one would replace the other: ${fix}`,
        n.at,
        n.file,
      ),
      target,
    })
  }
  return out
}
