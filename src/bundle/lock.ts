/**
 * `rules.lock.json`: per rule id, the hash of the rule's content and its version. A release
 * compares the rules with the previous lock: a rule whose hash changed gets version + 1, an
 * unchanged one keeps its version, a new one starts at 1, and a rule no longer present stays in
 * the lock marked `removed` (so a later return continues its numbering and never reuses a version
 * already deployed; Splunk's contentctl enforces the same "never decrement" rule).
 */
import { markdownCode, oneLine } from '../formats/escape.js'
import { error, type Diagnostic } from '../diagnostics.js'
import { entryOf, errorMessage, isMap, scalarText } from '../guards.js'

export const LOCK_FORMAT = 1

export interface LockEntry {
  readonly title: string
  /** The rule's file, relative and with `/`, where it was when locked. */
  readonly file: string
  /** sha256 of the rule document's canonical JSON (key order and YAML layout do not count). */
  readonly sha256: string
  readonly version: number
  readonly removed?: true
}

export interface Lock {
  readonly lockFormat: typeof LOCK_FORMAT
  readonly rules: Readonly<Record<string, LockEntry>>
}

/** A rule as the release sees it. */
export interface RuleState {
  readonly id: string
  readonly title: string
  readonly file: string
  readonly sha256: string
}

export interface Change {
  readonly id: string
  readonly title: string
  readonly file: string
  readonly version: number
  /** For changed rules (and removed ones coming back): the version in the previous lock. */
  readonly previousVersion?: number
}

export interface Changelog {
  readonly added: readonly Change[]
  readonly changed: readonly Change[]
  readonly removed: readonly Change[]
  readonly unchanged: number
}

/** Parse a lock file's text; a broken lock is an error (a silent restart at version 1 would reuse versions). */
export function parseLock(text: string, file: string): { lock?: Lock; diagnostics: Diagnostic[] } {
  const bad = (message: string) => ({ diagnostics: [error('bundle/invalid-lock', message, { line: 0, col: 0 }, file)] })
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    return bad(`the lock file is not valid JSON: ${errorMessage(e)}`)
  }
  if (!isMap(raw) || raw['lockFormat'] !== LOCK_FORMAT)
    return bad(`the lock file must be an object with "lockFormat": ${LOCK_FORMAT}`)
  const entries = raw['rules']
  if (!isMap(entries)) return bad('the lock file needs a "rules" object keyed by rule id')
  const rules: Record<string, LockEntry> = {}
  for (const [id, x] of Object.entries(entries)) {
    const sha256 = isMap(x) ? x['sha256'] : undefined
    const version = isMap(x) ? x['version'] : undefined
    if (
      !isMap(x) ||
      typeof sha256 !== 'string' ||
      typeof version !== 'number' ||
      !Number.isInteger(version) ||
      version < 1
    )
      return bad(`lock entry ${id} needs a "sha256" string and a positive integer "version"`)
    rules[id] = {
      title: scalarText(x['title']) ?? '',
      file: scalarText(x['file']) ?? '',
      sha256,
      version,
      ...(x['removed'] === true ? { removed: true as const } : {}),
    }
  }
  return { lock: { lockFormat: LOCK_FORMAT, rules }, diagnostics: [] }
}

/** Changelog order: by file, then id — the order a reviewer reads the repository in. */
const byFile = (a: Change, b: Change) =>
  a.file < b.file ? -1 : a.file > b.file ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

/** The next lock and the changelog since `previous` (none: every rule is added at version 1). */
export function nextLock(
  previous: Lock | undefined,
  current: readonly RuleState[],
): { lock: Lock; changelog: Changelog } {
  const before = previous?.rules ?? {}
  const entries: Record<string, LockEntry> = {}
  const added: Change[] = [],
    changed: Change[] = [],
    removed: Change[] = []
  let unchanged = 0
  const seen = new Set<string>()
  for (const rule of current) {
    seen.add(rule.id)
    const old = before[rule.id]
    let version: number
    if (!old) {
      version = 1
      added.push({ id: rule.id, title: rule.title, file: rule.file, version })
    } else if (old.removed) {
      version = old.version + 1
      added.push({ id: rule.id, title: rule.title, file: rule.file, version, previousVersion: old.version })
    } else if (old.sha256 !== rule.sha256) {
      version = old.version + 1
      changed.push({ id: rule.id, title: rule.title, file: rule.file, version, previousVersion: old.version })
    } else {
      version = old.version
      unchanged++
    }
    entries[rule.id] = { title: rule.title, file: rule.file, sha256: rule.sha256, version }
  }
  for (const [id, old] of Object.entries(before)) {
    if (seen.has(id)) continue
    if (!old.removed) removed.push({ id, title: old.title, file: old.file, version: old.version })
    entries[id] = { ...old, removed: true }
  }
  const sorted: Record<string, LockEntry> = {}
  for (const id of Object.keys(entries).sort()) sorted[id] = entryOf(entries, id)
  return {
    lock: { lockFormat: LOCK_FORMAT, rules: sorted },
    changelog: { added: added.sort(byFile), changed: changed.sort(byFile), removed: removed.sort(byFile), unchanged },
  }
}

/** The changelog as Markdown, for release notes. */
export function changelogMarkdown(name: string, changelog: Changelog, previousLock: string | undefined): string {
  const line = (c: Change, what: 'added' | 'changed' | 'removed') => {
    const v =
      what === 'changed'
        ? `v${c.previousVersion} → v${c.version}`
        : what === 'removed'
          ? `last v${c.version}`
          : c.previousVersion
            ? `v${c.version}, returns after removal`
            : `v${c.version}`
    // Titles, ids and paths are the rule author's text: one line each, so none can add a line here.
    return `- ${oneLine(c.title)} (${markdownCode(c.id)}, ${v}) — ${oneLine(c.file)}`
  }
  const section = (title: string, list: readonly Change[], what: 'added' | 'changed' | 'removed') => [
    `## ${title} (${list.length})`,
    '',
    ...(list.length ? list.map((c) => line(c, what)) : ['None.']),
    '',
  ]
  return [
    `# ${name}: changes`,
    '',
    previousLock ? `Compared with the previous lock (sha256 ${previousLock}).` : 'First release: no previous lock.',
    `${changelog.unchanged} rule${changelog.unchanged === 1 ? '' : 's'} unchanged.`,
    '',
    ...section('Added', changelog.added, 'added'),
    ...section('Changed', changelog.changed, 'changed'),
    ...section('Removed', changelog.removed, 'removed'),
  ].join('\n')
}
