/**
 * Splunk's .conf files, re-expressed as data: the line syntax every .conf file shares ([stanza],
 * `key = value`, `#` comments, a trailing backslash continuing a line) and the settings of
 * savedsearches.conf, macros.conf, app.conf and default.meta that their specification files in
 * Splunk Enterprise's Admin Manual define (docs.splunk.com/Documentation/Splunk/latest/Admin/
 * Savedsearchesconf, …/Macrosconf, …/Appconf, …/Defaultmetaconf). Enterprise Security adds the
 * alert actions `correlationsearch`, `notable` and `risk` (its alert_actions.conf); core Splunk has
 * none of them, so `core` rejects their keys. It imports nothing from the formats it checks.
 */
import type { Violation } from './ajv.js'
import { itemAt } from '../../guards.js'

export interface ConfStanza {
  readonly name: string
  readonly line: number
  readonly settings: ReadonlyMap<string, string>
}

/** Parse a .conf file; syntax errors are violations. */
export function parseConf(text: string): { stanzas: ConfStanza[]; violations: Violation[] } {
  const stanzas: { name: string; line: number; settings: Map<string, string> }[] = []
  const violations: Violation[] = []
  const lines = text.split('\n')
  let current: (typeof stanzas)[number] | undefined
  for (let i = 0; i < lines.length; i++) {
    let line = itemAt(lines, i)
    const start = i
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + '\n' + itemAt(lines, ++i)
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const stanza = /^\[(.*)\]$/.exec(trimmed)?.[1]
    if (stanza !== undefined) {
      if (stanzas.some((s) => s.name === stanza))
        violations.push({ path: `line ${start + 1}`, message: `stanza [${stanza}] twice (the later one wins)` })
      current = { name: stanza, line: start + 1, settings: new Map() }
      stanzas.push(current)
      continue
    }
    const [, key, value] = /^([^=\s][^=]*?)\s*=\s?(.*)$/s.exec(trimmed) ?? []
    if (key === undefined || value === undefined) {
      violations.push({
        path: `line ${start + 1}`,
        message: `not a setting, stanza or comment: ${trimmed.slice(0, 60)}`,
      })
      continue
    }
    if (!current) {
      current = { name: 'default', line: 0, settings: new Map() }
      stanzas.push(current)
    }
    if (current.settings.has(key))
      violations.push({ path: `line ${start + 1}`, message: `${key} set twice in [${current.name}]` })
    current.settings.set(key, value)
  }
  return { stanzas, violations }
}

/** savedsearches.conf.spec settings this tool may write (action.<name>.* checked per variant). */
const SAVEDSEARCH_KEYS = new Set([
  'search',
  'description',
  'disabled',
  'enableSched',
  'cron_schedule',
  'dispatch.earliest_time',
  'dispatch.latest_time',
  'counttype',
  'relation',
  'quantity',
  'alert.track',
  'alert.severity',
  'alert.suppress',
  'alert.suppress.period',
  'alert.suppress.fields',
  'alert.digest_mode',
  'alert.expires',
  'actions',
  'request.ui_dispatch_app',
  'schedule_window',
  'is_visible',
])
/** Alert actions core Splunk ships (alert_actions.conf.spec); ES adds the three below. */
const CORE_ACTIONS = ['email', 'script', 'lookup', 'logevent', 'webhook', 'populate_lookup', 'summary_index']
const ES_ACTIONS = ['correlationsearch', 'notable', 'risk']
const BOOL = /^(0|1|true|false)$/i
const COUNTTYPES = ['number of events', 'number of hosts', 'number of sources', 'custom', 'always']
const RELATIONS = ['greater than', 'less than', 'equal to', 'not equal to', 'drops by', 'rises by']
/** A cron field: *, numbers, ranges, lists and steps. */
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/

export function checkSavedSearches(text: string, variant: 'es' | 'core'): Violation[] {
  const { stanzas, violations: out } = parseConf(text)
  const actions = variant === 'es' ? [...CORE_ACTIONS, ...ES_ACTIONS] : CORE_ACTIONS
  for (const s of stanzas) {
    const at = `[${s.name}]`
    const v = s.settings
    if (s.name === 'default') continue
    if (!v.get('search')?.trim()) out.push({ path: at, message: 'no search' })
    for (const key of v.keys()) {
      const action = /^action\.([^.]+)/.exec(key)?.[1]
      if (action) {
        if (!actions.includes(action))
          out.push({
            path: at,
            message: `${key}: alert action '${action}' does not exist in ${variant === 'es' ? 'Splunk with ES' : 'core Splunk'}`,
          })
      } else if (!SAVEDSEARCH_KEYS.has(key))
        out.push({ path: at, message: `${key} is not a savedsearches.conf setting` })
    }
    for (const k of ['disabled', 'enableSched', 'alert.track', 'alert.suppress', 'alert.digest_mode']) {
      const flag = v.get(k)
      if (flag !== undefined && !BOOL.test(flag)) out.push({ path: at, message: `${k} must be a boolean` })
    }
    const sev = v.get('alert.severity')
    if (sev !== undefined && !/^[1-6]$/.test(sev)) out.push({ path: at, message: 'alert.severity must be 1..6' })
    const counttype = v.get('counttype')
    if (counttype !== undefined && !COUNTTYPES.includes(counttype)) out.push({ path: at, message: 'bad counttype' })
    const relation = v.get('relation')
    if (relation !== undefined && !RELATIONS.includes(relation)) out.push({ path: at, message: 'bad relation' })
    const quantity = v.get('quantity')
    if (quantity !== undefined && !/^\d+$/.test(quantity)) out.push({ path: at, message: 'quantity must be a number' })
    const cron = v.get('cron_schedule')
    if (cron !== undefined) {
      const f = cron.trim().split(/\s+/)
      if (f.length !== 5 || !f.every((x) => CRON_FIELD.test(x)))
        out.push({ path: at, message: `bad cron_schedule ${cron}` })
    }
    if (v.get('enableSched') === '1' && cron === undefined)
      out.push({ path: at, message: 'scheduled without cron_schedule' })
    for (const a of ['correlationsearch', 'notable'])
      if (variant === 'es' && v.get(`action.${a}`) === undefined && v.get(`action.${a}.enabled`) === undefined)
        out.push({ path: at, message: `ES: action.${a} is not turned on` })
    for (const json of ['action.correlationsearch.annotations', 'action.correlationsearch.metadata']) {
      const text = v.get(json)
      if (text !== undefined)
        try {
          JSON.parse(text)
        } catch {
          out.push({ path: at, message: `${json} is not JSON` })
        }
    }
  }
  return out
}

export function checkMacros(text: string): Violation[] {
  const { stanzas, violations: out } = parseConf(text)
  for (const s of stanzas) {
    if (s.name === 'default') continue
    if (!s.settings.has('definition')) out.push({ path: `[${s.name}]`, message: 'macro without definition' })
    for (const k of s.settings.keys())
      if (!['definition', 'args', 'validation', 'errormsg', 'iseval', 'description'].includes(k))
        out.push({ path: `[${s.name}]`, message: `${k} is not a macros.conf setting` })
    const args = /\((\d+)\)$/.exec(s.name)?.[1]
    const listed = s.settings.get('args')?.split(',').filter(Boolean).length ?? 0
    if (Number(args ?? 0) !== listed) out.push({ path: `[${s.name}]`, message: 'argument count differs from args' })
  }
  return out
}

/** app.conf: [package] id, [launcher] version, [ui] label (what Splunk's app install reads). */
export function checkAppConf(text: string, appId: string): Violation[] {
  const { stanzas, violations: out } = parseConf(text)
  const get = (stanza: string, key: string) => stanzas.find((s) => s.name === stanza)?.settings.get(key)
  if (get('package', 'id') !== appId) out.push({ path: '[package]', message: `id must be the app folder ${appId}` })
  if (!/^\d+\.\d+\.\d+/.test(get('launcher', 'version') ?? ''))
    out.push({ path: '[launcher]', message: 'version X.Y.Z' })
  if (!get('ui', 'label')) out.push({ path: '[ui]', message: 'no label' })
  return out
}
