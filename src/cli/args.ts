/** A small argument parser: `--flag value`, `--flag=value`, boolean switches, positionals. */
import { didYouMean } from '../suggest.js'
import { isOneOf, itemAt, must } from '../guards.js'

export interface ArgSpec {
  /** Flags that take a value. */
  readonly values?: readonly string[]
  /** Flags that may repeat (collected into a list). */
  readonly repeatable?: readonly string[]
  /** Switches without a value. */
  readonly switches?: readonly string[]
}

export interface ParsedArgs {
  readonly values: Map<string, string[]>
  readonly switches: Set<string>
  readonly positionals: string[]
}

export class UsageError extends Error {}

/** The config file is broken: its findings, already formatted; nothing was run (exit 2). */
export class ConfigError extends Error {}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const values = new Map<string, string[]>()
  const switches = new Set<string>()
  const positionals: string[] = []
  const takesValue = new Set([...(spec.values ?? []), ...(spec.repeatable ?? [])])
  // --follow-links: every command that reads rule folders takes it (src/rule/load.ts).
  const known = new Set([...takesValue, ...(spec.switches ?? []), 'help', 'h', 'follow-links'])
  for (let i = 0; i < argv.length; i++) {
    const arg = itemAt(argv, i)
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const m = must(/^--?([^=]+)(?:=(.*))?$/.exec(arg), 'an argument starting with - other than - itself')
    const name = must(m[1], 'the group matched')
    if (!known.has(name))
      throw new UsageError(
        `unknown option '${arg}'${didYouMean(
          `--${name}`,
          [...known].filter((k) => k.length > 1).map((k) => `--${k}`),
        )}`,
      )
    if (takesValue.has(name)) {
      const value = m[2] ?? argv[++i]
      if (value === undefined) throw new UsageError(`option '--${name}' needs a value`)
      if (values.has(name) && !(spec.repeatable ?? []).includes(name))
        throw new UsageError(`option '--${name}' is given twice`)
      values.set(name, [...(values.get(name) ?? []), value])
    } else {
      if (m[2] !== undefined) throw new UsageError(`option '--${name}' takes no value`)
      switches.add(name === 'h' ? 'help' : name)
    }
  }
  return { values, switches, positionals }
}

export const one = (a: ParsedArgs, name: string): string | undefined => a.values.get(name)?.[0]

export function choice<T extends string>(a: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T
export function choice<T extends string>(
  a: ParsedArgs,
  name: string,
  allowed: readonly T[],
  fallback?: T,
): T | undefined
export function choice<T extends string>(
  a: ParsedArgs,
  name: string,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  const v = one(a, name)
  if (v === undefined) return fallback
  if (!isOneOf(allowed, v))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not '${v}'${didYouMean(v, allowed)}`)
  return v
}

/** `{ name: value }` for an option given, `{}` for one not given (to spread into an options object). */
export function optionOf<K extends 'pipeline' | 'variant'>(name: K, value: string | undefined): { [P in K]?: string } {
  const out: { [P in K]?: string } = {}
  if (value) out[name] = value
  return out
}
