/** Stable, predictable output file names: `<DIR>/<target>/<format>/<rule file stem>.<ext>`. */
import { basename, extname } from 'node:path'
import type { Rule } from '../rule/rule.js'

/** File extension of each shipped format; a user's template takes its own (`x.conf.hbs` → conf). */
const EXTENSIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  spl: { default: 'spl', savedsearches: 'conf' },
  kql: { default: 'kql', sentinel: 'yaml', defender: 'json' },
  eql: { default: 'eql', elastic: 'ndjson' },
  osquery: { default: 'sql', pack: 'json', fleet: 'yml' },
}

export function extensionOf(target: string, format: string, templateFile?: string): string {
  if (templateFile) {
    const inner = extname(basename(templateFile, '.hbs')).slice(1)
    return inner || 'txt'
  }
  return EXTENSIONS[target]?.[format] ?? 'txt'
}

/** The rule's file name without extension; a multi-document file's later rules get `-2`, `-3`. */
export function stemOf(rule: Pick<Rule, 'file'>, indexInFile: number): string {
  const stem = basename(rule.file).replace(/\.ya?ml$/i, '')
  return indexInFile === 0 ? stem : `${stem}-${indexInFile + 1}`
}

/** Unique stems for a list of rules: same file name in two folders gets the id's first 8 characters. */
export function stemsFor(rules: readonly Pick<Rule, 'file' | 'id'>[]): string[] {
  const perFile = new Map<string, number>()
  const stems = rules.map((r) => {
    const n = perFile.get(r.file) ?? 0
    perFile.set(r.file, n + 1)
    return stemOf(r, n)
  })
  const count = new Map<string, number>()
  for (const s of stems) count.set(s, (count.get(s) ?? 0) + 1)
  return stems.map((s, i) => (count.get(s)! > 1 ? `${s}-${(rules[i]!.id ?? String(i)).slice(0, 8)}` : s))
}
