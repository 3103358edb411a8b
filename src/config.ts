/**
 * The project config file, `.rulesmith.yml` in the working folder (or `--config FILE`):
 *
 *   targets: [spl, kql, eql, osquery]   # what validate compiles each rule for
 *   unsupported: warning                # a target refusing a rule: error | warning | ignore
 *   placeholders:                       # values for |expand placeholders
 *     Administrators: [admin, root]
 *   pipelines: { kql: pipelines/kql.yml }   # per-target --pipeline defaults
 *   limits: { file-bytes: 20000000 }    # raise or lower a limit on input (src/limits.ts)
 *   defender: { enabled-on-import: true }  # Defender custom detections go live on import (default: off)
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { error, type Diagnostic, type DiagnosticCode } from './diagnostics.js'
import { TARGET_IDS, type TargetId, type TargetOptions } from './backends/types.js'
import { readInputFile } from './input-file.js'
import { DEFAULT_LIMITS, LIMIT_KEYS, type Limits } from './limits.js'
import { parseYaml, type Path } from './rule/yaml.js'
import { didYouMean, TARGET_ALIASES } from './suggest.js'
import { isMap, isOneOf } from './guards.js'

export type Policy = 'error' | 'warning' | 'ignore'

export interface Config {
  readonly targets: readonly TargetId[]
  readonly unsupported: Policy
  readonly placeholders: Readonly<Record<string, readonly string[]>>
  readonly pipelines: Readonly<Partial<Record<TargetId, string>>>
  readonly variants: Readonly<Partial<Record<TargetId, string>>>
  readonly limits: Limits
  /** kql `defender` format: `isEnabled: true`, the rule runs as soon as it is imported (default false). */
  readonly defenderEnabledOnImport?: boolean
}

export const DEFAULT_CONFIG: Config = {
  targets: TARGET_IDS,
  unsupported: 'warning',
  placeholders: {},
  pipelines: {},
  variants: {},
  limits: DEFAULT_LIMITS,
}

export const CONFIG_FILE = '.rulesmith.yml'

/** A target's options from the config (pipeline, variant), with `overrides` taking precedence. */
export function targetOptions(config: Config, target: TargetId, overrides: TargetOptions = {}): TargetOptions {
  const pipeline = overrides.pipeline ?? config.pipelines[target]
  const variant = overrides.variant ?? config.variants[target]
  return { ...(pipeline ? { pipeline } : {}), ...(variant ? { variant } : {}) }
}

const CONFIG_KEYS = ['targets', 'unsupported', 'placeholders', 'pipelines', 'variants', 'limits', 'defender']
const POLICIES: readonly Policy[] = ['error', 'warning', 'ignore']
const isPolicy = (v: unknown): v is Policy => isOneOf(POLICIES, v)

/** A YAML value in a message: a string as written, anything else as JSON (never `[object Object]`). */
const shownValue = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)))

/** `targets: [splunk]` → `spl`; `sentinel` → `kql` with `variants: { kql: sentinel }`. */
const CONFIG_ALIASES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(TARGET_ALIASES).map(([k, a]) => [
    k,
    a.variant && a.variant !== 'defender' ? `${a.target}' with 'variants: { ${a.target}: ${a.variant} }` : a.target,
  ]),
)

export interface ConfigOptions {
  /** A target's variants, to check `variants:` (the CLI passes the shipped target.yml's). */
  readonly variantsOf?: (target: TargetId) => readonly string[]
}

const variantHolders = (variantsOf: (target: TargetId) => readonly string[]): string => {
  const holders = TARGET_IDS.filter((t) => variantsOf(t).length > 0)
  return holders.length ? ` (only ${holders.map((t) => `${t}: ${variantsOf(t).join(', ')}`).join('; ')})` : ''
}

/** What the config says about a target's formats, merged into their context (kql defender: `enabledOnImport`). */
export function formatSettings(config: Config, target: TargetId): Record<string, unknown> {
  return target === 'kql' && config.defenderEnabledOnImport === true ? { enabledOnImport: true } : {}
}

/** Read the config; a missing default file is the defaults, a broken one is a diagnostic. */
export function loadConfig(path?: string, options: ConfigOptions = {}): { config: Config; diagnostics: Diagnostic[] } {
  const file = path ?? CONFIG_FILE
  if (!existsSync(file)) {
    if (path)
      return {
        config: DEFAULT_CONFIG,
        diagnostics: [error('io/unreadable', `cannot read config '${path}'`, undefined, path)],
      }
    return { config: DEFAULT_CONFIG, diagnostics: [] }
  }
  // Looked at before it is opened (a FIFO named .rulesmith.yml would block), bounded, UTF-8.
  const read = readInputFile(file, 'config')
  if ('diagnostic' in read) return { config: DEFAULT_CONFIG, diagnostics: [read.diagnostic] }
  const { documents, error: yamlError } = parseYaml(read.text, {
    maxDocuments: 1,
    maxNodes: DEFAULT_LIMITS.aliasExpansion,
  })
  if (yamlError)
    return {
      config: DEFAULT_CONFIG,
      diagnostics: [error('config/invalid', `invalid YAML: ${yamlError.message}`, yamlError.at, file)],
    }
  const doc = documents[0]
  const raw: unknown = doc?.value ?? {}
  const diagnostics: Diagnostic[] = []
  // Every finding points at the key or value it is about, so an editor jumps to it.
  const at = (path: Path, part: 'key' | 'value' = 'value') => {
    const loc = doc?.locate(path)
    return (part === 'key' ? loc?.key : undefined) ?? loc?.value ?? doc?.at ?? { line: 0, col: 0 }
  }
  const bad = (
    message: string,
    path: Path = [],
    part: 'key' | 'value' = 'value',
    code: DiagnosticCode = 'config/invalid',
  ) => diagnostics.push(error(code, message, at(path, part), file))
  if (documents.length > 1) bad('the config must be one YAML document', [])
  if (!isMap(raw)) {
    bad('the config must be a YAML map')
    return { config: DEFAULT_CONFIG, diagnostics }
  }
  const r = raw
  for (const key of Object.keys(r))
    if (!CONFIG_KEYS.includes(key)) bad(`unknown key '${key}'${didYouMean(key, CONFIG_KEYS)}`, [key], 'key')
  let targets = DEFAULT_CONFIG.targets
  if (r['targets'] !== undefined) {
    const t = r['targets']
    if (!Array.isArray(t) || t.length === 0) bad(`targets must be a list of ${TARGET_IDS.join(', ')}`, ['targets'])
    else {
      const known = t.filter((x) => isOneOf(TARGET_IDS, x))
      t.forEach((x: unknown, i) => {
        if (!isOneOf(TARGET_IDS, x))
          bad(
            `targets: unknown target '${shownValue(x)}' (known: ${TARGET_IDS.join(', ')})${didYouMean(shownValue(x), TARGET_IDS, CONFIG_ALIASES)}`,
            ['targets', i],
          )
      })
      if (known.length === t.length) targets = [...new Set(known)]
    }
  }
  let unsupported = DEFAULT_CONFIG.unsupported
  if (r['unsupported'] !== undefined) {
    const policy = r['unsupported']
    if (!isPolicy(policy))
      bad(
        `unsupported must be error, warning or ignore, not '${shownValue(policy)}'${didYouMean(shownValue(policy), POLICIES)}`,
        ['unsupported'],
      )
    else unsupported = policy
  }
  const placeholders: Record<string, string[]> = {}
  if (r['placeholders'] !== undefined) {
    const p = r['placeholders']
    if (typeof p !== 'object' || p === null || Array.isArray(p))
      bad('placeholders must be a map of name to a list of values', ['placeholders'])
    else for (const [k, v] of Object.entries(p)) placeholders[k] = Array.isArray(v) ? v.map(String) : [String(v)]
  }
  const perTarget = (key: 'pipelines' | 'variants'): Partial<Record<TargetId, string>> => {
    const v = r[key]
    if (v === undefined) return {}
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      bad(`${key} must be a map of target to ${key === 'pipelines' ? 'a pipeline file' : 'a variant name'}`, [key])
      return {}
    }
    const out: Partial<Record<TargetId, string>> = {}
    for (const [k, x] of Object.entries(v)) {
      const t = k
      if (!isOneOf(TARGET_IDS, t)) {
        bad(`${key}: unknown target '${k}'${didYouMean(k, TARGET_IDS, CONFIG_ALIASES)}`, [key, k], 'key')
        continue
      }
      if (typeof x !== 'string' || x === '') {
        bad(`${key}: ${t} must name ${key === 'pipelines' ? 'a pipeline file' : 'a variant'}`, [key, k])
        continue
      }
      if (key === 'pipelines') {
        // Checked here, once, at the line that names it: not once per rule by every backend.
        const path = resolve(dirname(file), x)
        if (!existsSync(path) || !statSync(path).isFile())
          bad(`pipeline file '${x}' for ${t} does not exist (looked for ${path})`, [key, k], 'value', 'config/pipeline')
        else out[t] = path
      } else {
        const known = options.variantsOf?.(t) ?? []
        if (known.length === 0 && options.variantsOf)
          bad(`variants: ${t} has no variants${variantHolders(options.variantsOf)}`, [key, k], 'key')
        else {
          // kql names the schema families a workspace has, as a list: `kql: defender,sentinel`.
          const named = t === 'kql' ? x.split(',').map((v) => v.trim()) : [x]
          const unknown = known.length ? named.find((v) => !known.includes(v)) : undefined
          if (unknown !== undefined)
            bad(
              `variants: ${t} has no variant '${unknown}' (it has: ${known.join(', ')})${didYouMean(unknown, known)}`,
              [key, k],
            )
          else out[t] = x
        }
      }
    }
    return out
  }
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = { ...DEFAULT_LIMITS }
  if (r['limits'] !== undefined) {
    const l = r['limits']
    if (typeof l !== 'object' || l === null || Array.isArray(l))
      bad('limits must be a map of limit name to a number', ['limits'])
    else
      for (const [k, v] of Object.entries(l)) {
        const name = LIMIT_KEYS[k]
        if (!name)
          bad(
            `limits: unknown limit '${k}' (known: ${Object.keys(LIMIT_KEYS).join(', ')})${didYouMean(k, Object.keys(LIMIT_KEYS))}`,
            ['limits', k],
            'key',
          )
        else if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
          bad(`limits.${k} must be a positive whole number`, ['limits', k])
        else limits[name] = v
      }
  }
  let defenderEnabledOnImport = false
  if (r['defender'] !== undefined) {
    const d = r['defender']
    if (typeof d !== 'object' || d === null || Array.isArray(d))
      bad('defender must be a map: { enabled-on-import: true | false }', ['defender'])
    else
      for (const [k, v] of Object.entries(d)) {
        if (k !== 'enabled-on-import')
          bad(`defender: unknown key '${k}' (known: enabled-on-import)`, ['defender', k], 'key')
        else if (typeof v !== 'boolean') bad('defender.enabled-on-import must be true or false', ['defender', k])
        else defenderEnabledOnImport = v
      }
  }
  return {
    config: {
      targets,
      unsupported,
      placeholders,
      pipelines: perTarget('pipelines'),
      variants: perTarget('variants'),
      limits,
      defenderEnabledOnImport,
    },
    diagnostics,
  }
}
