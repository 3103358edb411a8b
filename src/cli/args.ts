/** A small argument parser: `--flag value`, `--flag=value`, boolean switches, positionals. */
import { didYouMean } from '../suggest.js'

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
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const m = /^--?([^=]+)(?:=(.*))?$/.exec(arg)!
    const name = m[1]!
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

export function choice<T extends string>(
  a: ParsedArgs,
  name: string,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  const v = one(a, name)
  if (v === undefined) return fallback
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not '${v}'${didYouMean(v, allowed)}`)
  return v as T
}
