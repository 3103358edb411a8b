/** Checks of a rule's metadata beyond its schema: ids, dates, ATT&CK tags. */
import type { Pos } from '../ast/nodes.js'
import { error, warning, type Diagnostic } from '../diagnostics.js'
import { codePoint } from '../formats/escape.js'
import { TACTICS } from '../formats/attack.js'
import type { YamlDocument } from './yaml.js'
import { TAG_PATTERN } from './schema.js'
import { itemAt } from '../guards.js'

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
  const days = itemAt([31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], mo - 1)
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
  out.push(...unsafeText(raw, pos, file))
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

/** Fields that are one line of text in every output format; `description` may have line breaks. */
const ONE_LINE_FIELDS = ['title', 'id', 'name', 'author', 'license', 'status', 'level', 'date', 'modified']
const LIST_FIELDS = ['tags', 'references', 'falsepositives']
const NOT_ONE_LINE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ufeff]/
const NOT_TEXT = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]/

/**
 * Metadata the output files cannot hold as written: a line break or control character in a field
 * that is one line (savedsearches.conf folds it to a space, JSON and YAML escape it; src/formats/
 * escape.ts), or a title ending in a backslash (a line continuation in .conf files, dropped there).
 * A warning: the output stays safe, but differs from what the author wrote.
 */
function unsafeText(
  raw: Record<string, unknown>,
  pos: (...path: (string | number)[]) => Pos | undefined,
  file: string,
): Diagnostic[] {
  const out: Diagnostic[] = []
  const check = (value: unknown, label: string, path: (string | number)[], pattern: RegExp) => {
    if (typeof value !== 'string') return
    const bad = pattern.exec(value)
    if (bad)
      out.push(
        warning(
          'rule/unsafe-text',
          `${label} holds ${codePoint(bad[0])}, a line break or control character: one-line outputs (savedsearches.conf, comments) fold it to a space and JSON/YAML escape it; remove it`,
          pos(...path),
          file,
        ),
      )
    else if (label === 'title' && /\\\s*$/.test(value))
      out.push(
        warning(
          'rule/unsafe-text',
          'title ends in a backslash, which continues a line in .conf files: savedsearches.conf drops it',
          pos(...path),
          file,
        ),
      )
  }
  for (const key of ONE_LINE_FIELDS) check(raw[key], key, [key], NOT_ONE_LINE)
  check(raw['description'], 'description', ['description'], NOT_TEXT)
  for (const key of LIST_FIELDS) {
    const list = raw[key]
    if (Array.isArray(list)) list.forEach((v, i) => check(v, `${key}[${i}]`, [key, i], NOT_ONE_LINE))
  }
  return out
}
