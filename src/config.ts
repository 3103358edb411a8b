/**
 * The project config file, `.rulesmith.yml` in the working folder (or `--config FILE`):
 *
 *   targets: [spl, kql, eql, osquery]   # what validate compiles each rule for
 *   unsupported: warning                # a target refusing a rule: error | warning | ignore
 *   placeholders:                       # values for |expand placeholders
 *     Administrators: [admin, root]
 *   pipelines: { kql: pipelines/kql.yml }   # per-target --pipeline defaults
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import yaml from 'js-yaml'
import { error, type Diagnostic } from './diagnostics.js'
import { TARGET_IDS, type TargetId } from './backends/types.js'

export type Policy = 'error' | 'warning' | 'ignore'

export interface Config {
  readonly targets: readonly TargetId[]
  readonly unsupported: Policy
  readonly placeholders: Readonly<Record<string, readonly string[]>>
  readonly pipelines: Readonly<Partial<Record<TargetId, string>>>
  readonly variants: Readonly<Partial<Record<TargetId, string>>>
}

export const DEFAULT_CONFIG: Config = {
  targets: TARGET_IDS,
  unsupported: 'warning',
  placeholders: {},
  pipelines: {},
  variants: {},
}

export const CONFIG_FILE = '.rulesmith.yml'

/** Read the config; a missing default file is the defaults, a broken one is a diagnostic. */
export function loadConfig(path?: string): { config: Config; diagnostics: Diagnostic[] } {
  const file = path ?? CONFIG_FILE
  if (!existsSync(file)) {
    if (path)
      return {
        config: DEFAULT_CONFIG,
        diagnostics: [error('io/unreadable', `cannot read config '${path}'`, undefined, path)],
      }
    return { config: DEFAULT_CONFIG, diagnostics: [] }
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    return {
      config: DEFAULT_CONFIG,
      diagnostics: [
        error(
          'io/unreadable',
          `cannot read config '${file}': ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
          undefined,
          file,
        ),
      ],
    }
  }
  let raw: unknown
  try {
    raw = yaml.load(text, { schema: yaml.CORE_SCHEMA }) ?? {}
  } catch (e) {
    const mark = (e as { mark?: { line: number; column: number } }).mark
    return {
      config: DEFAULT_CONFIG,
      diagnostics: [
        error(
          'config/invalid',
          `invalid YAML: ${(e as { reason?: string }).reason ?? String(e)}`,
          mark ? { line: mark.line, col: mark.column } : undefined,
          file,
        ),
      ],
    }
  }
  const diagnostics: Diagnostic[] = []
  const bad = (message: string) => diagnostics.push(error('config/invalid', message, { line: 0, col: 0 }, file))
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    bad('the config must be a YAML map')
    return { config: DEFAULT_CONFIG, diagnostics }
  }
  const r = raw as Record<string, unknown>
  for (const key of Object.keys(r))
    if (!['targets', 'unsupported', 'placeholders', 'pipelines', 'variants'].includes(key)) bad(`unknown key '${key}'`)
  let targets = DEFAULT_CONFIG.targets
  if (r['targets'] !== undefined) {
    const t = r['targets']
    if (!Array.isArray(t) || t.some((x) => !(TARGET_IDS as readonly unknown[]).includes(x)))
      bad(`targets must be a list of ${TARGET_IDS.join(', ')}`)
    else targets = t as TargetId[]
  }
  let unsupported = DEFAULT_CONFIG.unsupported
  if (r['unsupported'] !== undefined) {
    if (!['error', 'warning', 'ignore'].includes(String(r['unsupported'])))
      bad('unsupported must be error, warning or ignore')
    else unsupported = r['unsupported'] as Policy
  }
  const placeholders: Record<string, string[]> = {}
  if (r['placeholders'] !== undefined) {
    const p = r['placeholders']
    if (typeof p !== 'object' || p === null || Array.isArray(p))
      bad('placeholders must be a map of name to a list of values')
    else for (const [k, v] of Object.entries(p)) placeholders[k] = Array.isArray(v) ? v.map(String) : [String(v)]
  }
  const perTarget = (key: 'pipelines' | 'variants'): Partial<Record<TargetId, string>> => {
    const v = r[key]
    if (v === undefined) return {}
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      bad(`${key} must be a map of target to value`)
      return {}
    }
    const out: Partial<Record<TargetId, string>> = {}
    for (const [k, x] of Object.entries(v)) {
      if (!(TARGET_IDS as readonly string[]).includes(k)) bad(`${key}: unknown target '${k}'`)
      else out[k as TargetId] = key === 'pipelines' ? resolve(dirname(file), String(x)) : String(x)
    }
    return out
  }
  return {
    config: { targets, unsupported, placeholders, pipelines: perTarget('pipelines'), variants: perTarget('variants') },
    diagnostics,
  }
}
