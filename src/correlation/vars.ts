/** What formats and summaries read of a correlation: the same names a rule gives them. */
import { attackOf } from '../formats/attack.js'
import type { RuleVars } from '../formats/render.js'
import type { ResolvedCorrelation } from './resolve.js'

const text = (v: unknown): string => (typeof v === 'string' ? v : '')
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [])

export function correlationVars(rc: ResolvedCorrelation, version = 1): RuleVars {
  const c = rc.correlation
  const raw = c.raw
  const tags = list(raw['tags'])
  return {
    id: c.id ?? '',
    title: c.title,
    name: c.name ?? '',
    description: c.description ?? '',
    author: text(raw['author']),
    date: text(raw['date']),
    modified: text(raw['modified']) || text(raw['date']),
    status: c.status ?? '',
    level: c.level ?? '',
    license: text(raw['license']),
    tags,
    references: list(raw['references']),
    falsepositives: list(raw['falsepositives']),
    logsource: {},
    attack: attackOf(tags),
    file: c.file,
    version,
  }
}

export function correlationSummary(rc: ResolvedCorrelation) {
  const c = rc.correlation
  return {
    file: c.file,
    at: c.at,
    title: c.title,
    ...(c.id !== undefined ? { id: c.id } : {}),
    ...(c.idAt ? { idAt: c.idAt } : {}),
  }
}
