/**
 * Near misses: what a user most likely meant by a name the CLI or the config does not know
 * (`--target splunk`, `--variant sentinal`, `--format sentinel`, `rulesmith valdate`), so a
 * refusal carries the fix. Also each target's variants, read from its target.yml.
 */
import { existsSync, readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { TARGET_IDS, type TargetId } from '../backends/types.js'
import { targetPath } from '../paths.js'
import { didYouMean, targetAliasesAsFlags } from '../suggest.js'
import { UsageError } from './args.js'
import { isMap, isOneOf } from '../guards.js'

/** The hint for a target name: product names (`splunk`, `sentinel`) first, then spelling. */
export const targetHint = (input: string, allowAll: boolean): string =>
  didYouMean(input, allowAll ? [...TARGET_IDS, 'all'] : TARGET_IDS, targetAliasesAsFlags())

/** `--target` as given: a target id, `all` where allowed, or a usage error that suggests one. */
export function parseTarget(value: string, allowAll: false): TargetId
export function parseTarget(value: string, allowAll: boolean): TargetId | 'all'
export function parseTarget(value: string, allowAll: boolean): TargetId | 'all' {
  if (isOneOf(TARGET_IDS, value)) return value
  if (allowAll && value === 'all') return 'all'
  const list = [...TARGET_IDS, ...(allowAll ? ['all'] : [])].join(', ')
  throw new UsageError(`--target must be one of ${list}, not '${value}'${targetHint(value, allowAll)}`)
}

const variantCache = new Map<TargetId, string[]>()

/** The variants a target ships (`variants:` in targets/<id>/target.yml); none for most. */
export function variantsOf(target: TargetId): string[] {
  let v = variantCache.get(target)
  if (!v) {
    const file = targetPath(target, 'target.yml')
    const data: unknown = existsSync(file) ? yaml.load(readFileSync(file, 'utf8'), { schema: yaml.CORE_SCHEMA }) : null
    const variants = isMap(data) ? data['variants'] : undefined
    v = Object.keys(isMap(variants) ? variants : {}).sort()
    variantCache.set(target, v)
  }
  return v
}

/** Targets that have variants, for messages (`only kql has variants: defender, sentinel`). */
export function targetsWithVariants(): TargetId[] {
  return TARGET_IDS.filter((t) => variantsOf(t).length > 0)
}

/** A variant named for a target that has it, or a usage error that says which exist. */
export function checkVariant(target: TargetId, variant: string): void {
  const known = variantsOf(target)
  if (known.length === 0) return // a target without variants: the caller warns that it has no effect
  // kql takes a list of the schema families a workspace has: `defender,sentinel`.
  const named = target === 'kql' ? variant.split(',').map((v) => v.trim()) : [variant]
  for (const v of named)
    if (!known.includes(v))
      throw new UsageError(`${target} has no variant '${v}' (it has: ${known.join(', ')})${didYouMean(v, known)}`)
}
