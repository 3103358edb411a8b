/** Stable, predictable output file names: `<DIR>/<target>/<format>/<rule file stem>.<ext>`, and where DIR may be. */
import { existsSync, realpathSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { Pos } from '../ast/nodes.js'
import { error, type Diagnostic } from '../diagnostics.js'
import { jsonText, safeStem } from '../formats/escape.js'
import type { Rule } from '../rule/rule.js'
import { itemAt, mustGet } from '../guards.js'

/** File extension of each shipped format; a user's template takes its own (`x.conf.hbs` → conf). */
const EXTENSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  spl: { default: 'spl', savedsearches: 'conf', 'savedsearches-core': 'conf' },
  kql: { default: 'kql', sentinel: 'yaml', arm: 'json', defender: 'json' },
  eql: { default: 'eql', elastic: 'ndjson' },
  osquery: { default: 'sql', pack: 'json', fleet: 'yml' },
}

/**
 * Formats made for a variant other than the target's default: Sentinel's rule files query
 * Sentinel's tables (a Defender table there is an analytics rule that never matches). Compiling
 * such a format uses its variant unless the user names one. (Defender's format is the default
 * variant's.)
 */
const FORMAT_VARIANTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  kql: { sentinel: 'sentinel', arm: 'sentinel' },
}

export function variantOf(target: string, format: string): string | undefined {
  return FORMAT_VARIANTS[target]?.[format]
}

export function extensionOf(target: string, format: string, templateFile?: string): string {
  if (templateFile) {
    const inner = safeStem(extname(basename(templateFile, '.hbs')).slice(1))
    return inner === '_' ? 'txt' : inner
  }
  return EXTENSIONS[target]?.[format] ?? 'txt'
}

/**
 * The rule's file name without extension, made safe for a file name (src/formats/escape.ts
 * safeStem: no line breaks, controls or separators); a multi-document file's later rules get
 * `-2`, `-3`.
 */
export function stemOf(rule: Pick<Rule, 'file'>, indexInFile: number): string {
  const stem = safeStem(basename(rule.file).replace(/\.ya?ml$/i, ''))
  return indexInFile === 0 ? stem : `${stem}-${indexInFile + 1}`
}

/**
 * Unique stems for a list of rules: a file name used in two folders (compared without case, as
 * macOS and Windows file systems do) gets the id's first 8 characters. What is still equal after
 * that is an error (outputCollisions).
 */
export function stemsFor(rules: readonly Pick<Rule, 'file' | 'id'>[]): string[] {
  const perFile = new Map<string, number>()
  const stems = rules.map((r) => {
    const n = perFile.get(r.file) ?? 0
    perFile.set(r.file, n + 1)
    return stemOf(r, n)
  })
  const count = new Map<string, number>()
  for (const s of stems) count.set(s.toLowerCase(), (count.get(s.toLowerCase()) ?? 0) + 1)
  return stems.map((s, i) =>
    mustGet(count, s.toLowerCase()) > 1 ? `${s}-${safeStem((itemAt(rules, i).id ?? String(i)).slice(0, 8))}` : s,
  )
}

export interface OutputOwner {
  readonly path: string
  readonly file: string
  readonly at: Pos
}

/** Two rules whose output files are one file (paths equal without case): an error on the second, naming the first. */
export function outputCollisions(owners: readonly OutputOwner[]): Diagnostic[] {
  const first = new Map<string, OutputOwner>()
  const out: Diagnostic[] = []
  for (const o of owners) {
    const key = o.path.toLowerCase()
    const earlier = first.get(key)
    if (!earlier) first.set(key, o)
    else
      out.push(
        error(
          'output/collision',
          `output file ${jsonText(o.path)} would also hold the rule of ${earlier.file}:${earlier.at.line + 1}:${earlier.at.col + 1}${earlier.path === o.path ? '' : ` (${jsonText(earlier.path)}, the same file where case does not count)`}; rename one rule file`,
          o.at,
          o.file,
        ),
      )
  }
  return out
}

/** `path` with symbolic links resolved, also when its last parts do not exist yet. */
function realPath(path: string): string {
  let dir = resolve(path)
  const rest: string[] = []
  while (!existsSync(dir) && dirname(dir) !== dir) {
    rest.unshift(basename(dir))
    dir = dirname(dir)
  }
  try {
    return join(realpathSync(dir), ...rest)
  } catch {
    return resolve(path)
  }
}

const within = (outer: string, inner: string): boolean => {
  const rel = relative(outer, inner)
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel))
}

/**
 * Why an output folder cannot be used with these inputs, or undefined: inside a rule folder, its
 * files would be read as rules by the next run (its .yml formats); holding a rule folder, replacing
 * it would delete the rules. Symbolic links are resolved on both sides.
 */
export function outOverlapsInputs(out: string, inputs: readonly string[]): string | undefined {
  const o = realPath(out)
  for (const input of inputs) {
    const i = realPath(input)
    if (within(i, o)) return `--out ${out} is inside the rule path '${input}'; write the output elsewhere`
    if (within(o, i))
      return `--out ${out} holds the rule path '${input}', and is replaced whole; write the output elsewhere`
  }
  return undefined
}
