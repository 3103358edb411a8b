/** Checks of a rule's metadata beyond its schema: ids, dates, ATT&CK tags. */
import { error, warning, type Diagnostic } from '../diagnostics.js'
import { TACTICS } from '../formats/attack.js'
import type { YamlDocument } from './yaml.js'
import { TAG_PATTERN } from './schema.js'

const TAG = new RegExp(TAG_PATTERN)

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A real calendar day in YYYY-MM-DD (the schema's pattern accepts 2024-02-31). */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!m) return false
  const y = Number(m[1]),
    mo = Number(m[2]),
    d = Number(m[3])
  if (mo < 1 || mo > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!
  return d <= days
}

/** ATT&CK tags: techniques `t1234(.001)`, groups `g1234`, software `s1234`, campaigns `c1234`, data sources `ds0005`, tactics by name. */
export function isAttackTag(tag: string): boolean {
  const rest = tag.slice('attack.'.length)
  return /^t\d{4}(\.\d{3})?$/.test(rest) || /^(g|s|c|ds)\d{4}$/.test(rest) || rest.replace(/_/g, '-') in TACTICS
}

export function checkMetadata(raw: Record<string, unknown>, doc: YamlDocument, file: string): Diagnostic[] {
  const out: Diagnostic[] = []
  const pos = (...path: (string | number)[]) => doc.locate(path)?.value
  const id = raw['id']
  if (typeof id === 'string' && !UUID.test(id))
    out.push(
      error(
        'rule/invalid-uuid',
        `id '${id}' is not a UUID (like 0f1e2d3c-4b5a-4697-8899-aabbccddeeff)`,
        pos('id'),
        file,
      ),
    )
  for (const key of ['date', 'modified'] as const) {
    const v = raw[key]
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !isCalendarDate(v))
      out.push(error('rule/invalid-date', `${key} '${v}' is not a real calendar day`, pos(key), file))
  }
  if (typeof raw['date'] === 'string' && typeof raw['modified'] === 'string' && raw['modified'] < raw['date'])
    out.push(
      warning(
        'rule/modified-before-date',
        `modified (${raw['modified']}) is earlier than date (${raw['date']})`,
        pos('modified'),
        file,
      ),
    )
  const tags = raw['tags']
  if (Array.isArray(tags)) {
    tags.forEach((tag, i) => {
      if (typeof tag === 'string' && TAG.test(tag) && tag.startsWith('attack.') && !isAttackTag(tag))
        out.push(
          error(
            'rule/invalid-attack-tag',
            `'${tag}' is not an ATT&CK tactic, technique (attack.t1234 or attack.t1234.001), group, software or campaign`,
            pos('tags', i),
            file,
          ),
        )
    })
  }
  return out
}
