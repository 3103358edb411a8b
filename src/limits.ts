/**
 * Limits on untrusted input, each with a diagnostic of its own when exceeded and each overridable
 * under `limits:` in `.rulesmith.yml` (src/config.ts). The defaults are far above any real rule
 * (SigmaHQ's largest file is under 100 KB, its longest value list a few hundred entries) and far
 * below what exhausts memory or time.
 */
import { DEFAULT_REGEX_BUDGET_MS, setRegexBudget } from './bounded-regex.js'

export interface Limits {
  /** Bytes in one rule, tests or pipeline file. */
  readonly fileBytes: number
  /** YAML documents (`---`) in one file. */
  readonly documents: number
  /** Values under one field of a search identifier (a list), after alias expansion. */
  readonly valuesPerField: number
  /** Nodes a YAML document may hold once its aliases are expanded. */
  readonly aliasExpansion: number
  /**
   * Values a detection's condition may expand to, a search counted each time the condition names
   * it (also through `1 of` / `all of` / `them`), plus identifiers tested against its `x*` patterns.
   */
  readonly conditionExpansion: number
  /** Bytes in one line of an events file (`match --events`). */
  readonly eventLineBytes: number
  /** Milliseconds one regular-expression test may take when no linear-time engine can run it. */
  readonly regexBudgetMs: number
}

export const DEFAULT_LIMITS: Limits = {
  fileBytes: 10 * 1024 * 1024,
  documents: 1000,
  valuesPerField: 10_000,
  aliasExpansion: 100_000,
  conditionExpansion: 1_000_000,
  eventLineBytes: 16 * 1024 * 1024,
  regexBudgetMs: DEFAULT_REGEX_BUDGET_MS,
}

/** The names under `limits:` in the config file. */
export const LIMIT_KEYS: Readonly<Record<string, keyof Limits>> = {
  'file-bytes': 'fileBytes',
  documents: 'documents',
  'values-per-field': 'valuesPerField',
  'alias-expansion': 'aliasExpansion',
  'condition-expansion': 'conditionExpansion',
  'event-line-bytes': 'eventLineBytes',
  'regex-budget-ms': 'regexBudgetMs',
}

/** The config key of a limit, for messages ("raise limits.file-bytes …"). */
export const limitKey = (name: keyof Limits): string =>
  'limits.' + (Object.entries(LIMIT_KEYS).find(([, v]) => v === name)?.[0] ?? name)

let current: Limits = DEFAULT_LIMITS
let followLinks = false

/** Set for the run by the CLI from the config (and `--follow-links`); the library keeps the defaults. */
export function setLimits(limits: Limits, options: { followLinks?: boolean } = {}): void {
  current = limits
  followLinks = options.followLinks ?? false
  setRegexBudget(limits.regexBudgetMs)
}

export const limits = (): Limits => current

/** Whether symbolic links that lead outside the given folder are followed. */
export const followsLinks = (): boolean => followLinks
