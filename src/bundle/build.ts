/**
 * Assemble a release bundle in memory: every rule compiled for every target and rendered in every
 * format the target ships, a manifest with per-rule and per-artifact sha256, the next lock and its
 * changelog, a reproducible `.tar.gz` of all that, and `SHA256SUMS`. Nothing touches the disk
 * here; `write.ts` puts the result in place atomically. Any error in any rule fails the whole
 * bundle, and every failing rule is reported.
 */
import { readFileSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { compile, targetOptions } from '../api.js'
import type { TargetId } from '../backends/types.js'
import { DEFAULT_CONFIG, formatSettings, type Config } from '../config.js'
import { error, warning, type Diagnostic } from '../diagnostics.js'
import { UnsafeTextError } from '../formats/escape.js'
import { ATTACK_SOURCE, ATTACK_VERSION } from '../formats/attack.js'
import { formatFindings } from '../formats/findings.js'
import { detectionName, duplicateNames, type Named } from '../formats/identity.js'
import { formatsOf, renderFormat, ruleVars } from '../formats/render.js'
import { loadPaths } from '../rule/load.js'
import { declaredRefusals, refusalKey } from '../proof/sample-tests.js'
import type { Rule } from '../rule/rule.js'
import { extensionOf, stemsFor, variantOf } from '../formats/output-files.js'
import { version as toolVersion } from '../version.js'
import { gzip } from './gzip.js'
import { canonicalJson, sha256 } from './hash.js'
import { changelogMarkdown, nextLock, type Changelog, type Lock, type RuleState } from './lock.js'
import { osqueryPackages, type OsqueryRuleArtifacts } from './osquery-packs.js'
import { SPLUNK_APP_FORMATS, splunkApp, type SplunkAppRule, type SplunkAppVariant } from './splunk-app.js'
import { tar, TarPathError, type TarFile } from './tar.js'
import { errorMessage, isMap, must, mustGet, scalarText } from '../guards.js'

export interface BundleOptions {
  readonly config?: Config
  /** The previous lock; without one every rule is new at version 1. */
  readonly lock?: Lock
  /** sha256 of the previous lock file, recorded in the manifest and changelog. */
  readonly lockSha256?: string
  /** A target that refuses a rule skips it (listed in the manifest) instead of failing the bundle. */
  readonly skipUnsupported?: boolean
  /** No rules under the paths is an empty bundle, not an error. */
  readonly allowEmpty?: boolean
  /** Archive name: `<name>.tar.gz` holding the folder `<name>/`. */
  readonly name?: string
  /** Paths in the manifest are relative to this folder (default: the working folder). */
  readonly root?: string
  readonly onProgress?: (done: number, total: number) => void
}

export interface Artifact {
  readonly target: TargetId
  readonly format: string
  readonly path: string
  readonly sha256: string
}

export interface Skipped {
  readonly target: TargetId
  /** The formats skipped, when the target's other formats (another variant) were written. */
  readonly formats?: readonly string[]
  readonly code: string
  readonly message: string
  /** The reason the rule's tests file gives under `refused:`, when the refusal is declared there. */
  readonly declared?: string
}

export interface ManifestRule {
  readonly id: string
  readonly title: string
  readonly version: number
  readonly status: string | null
  readonly level: string | null
  readonly file: string
  /** sha256 of the rule file's bytes (a multi-document file: the whole file). */
  readonly sourceSha256: string
  /** sha256 of the rule document's canonical JSON: what the lock compares. */
  readonly contentSha256: string
  readonly artifacts: readonly Artifact[]
  readonly skipped: readonly Skipped[]
}

/** An artifact made of every rule: a Splunk app (src/bundle/splunk-app.ts). */
export interface Package {
  readonly target: TargetId
  readonly format: string
  readonly path: string
  readonly sha256: string
  readonly rules: number
}

export interface Manifest {
  readonly tool: 'rulesmith'
  readonly toolVersion: string
  readonly name: string
  readonly targets: readonly TargetId[]
  readonly formats: Readonly<Partial<Record<TargetId, readonly string[]>>>
  readonly previousLockSha256: string | null
  /** The ATT&CK release the formats' tactics and techniques are spelt against (src/formats/attack.ts). */
  readonly attack: { readonly version: string; readonly source: string }
  readonly rules: readonly ManifestRule[]
  readonly packages: readonly Package[]
  readonly changelog: Changelog
}

/** One rule file that keeps the bundle from being built, with its errors. */
export interface FailingRule {
  readonly file: string
  readonly diagnostics: readonly Diagnostic[]
}

export interface BuiltBundle {
  /** Every file of the bundle folder, sorted by path. */
  readonly files: readonly TarFile[]
  readonly manifest: Manifest
  readonly lock: Lock
  readonly archive: string
}

export interface BundleResult {
  /** Absent when anything failed. */
  readonly bundle?: BuiltBundle
  readonly failing: readonly FailingRule[]
  readonly diagnostics: readonly Diagnostic[]
  readonly files: readonly string[]
  readonly rules: number
}

export const DEFAULT_BUNDLE_NAME = 'detections'

const utf8 = (s: string) => Buffer.from(s, 'utf8')
/** A context entry that maps names to text (the spl backend's search macros): its string values. */
const textsOf = (v: unknown): Record<string, string> =>
  isMap(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {}
const isAppVariant = (v: string): v is SplunkAppVariant => Object.prototype.hasOwnProperty.call(SPLUNK_APP_FORMATS, v)
/** The Splunk app variants, in SPLUNK_APP_FORMATS' order (es, core). */
const APP_VARIANTS: readonly SplunkAppVariant[] = Object.keys(SPLUNK_APP_FORMATS).filter(isAppVariant)
const withNewline = (s: string) => (s.endsWith('\n') ? s : s + '\n')

export async function buildBundle(paths: readonly string[], options: BundleOptions = {}): Promise<BundleResult> {
  const config = options.config ?? DEFAULT_CONFIG
  const name = options.name ?? DEFAULT_BUNDLE_NAME
  const root = options.root ?? process.cwd()
  const portable = (file: string) => relative(root, resolve(file)).split(sep).join('/')
  const loaded = loadPaths(paths, { placeholders: config.placeholders })
  const diagnostics: Diagnostic[] = [...loaded.diagnostics]
  const rules = loaded.rules
  for (const rule of rules)
    if (!rule.id)
      diagnostics.push(
        error(
          'bundle/missing-id',
          `rule '${rule.title}' has no id: a bundle tracks rules by id (add a UUID 'id:')`,
          rule.at,
          rule.file,
        ),
      )

  // Versions first: the formats may print them (`rule.version`).
  const contentSha = new Map(rules.map((r) => [r, sha256(canonicalJson(r.raw))]))
  const states: RuleState[] = rules.flatMap((r) =>
    r.id ? [{ id: r.id, title: r.title, file: portable(r.file), sha256: mustGet(contentSha, r) }] : [],
  )
  const { lock, changelog } = nextLock(options.lock, states)

  const targets = [...config.targets]
  const formats: Partial<Record<TargetId, string[]>> = {}
  // A target that ships no templates still gets its bare query, as format `default`.
  for (const t of targets) formats[t] = formatsOf(t).length ? formatsOf(t) : ['default']
  const stems = stemsFor(rules)
  const files: TarFile[] = []
  const manifestRules: ManifestRule[] = []
  // Per target/format, the name each detection gets where it is imported: two equal ones fail the bundle.
  const named = new Map<string, Named[]>()
  // Per Splunk app variant, every rule's stanza (the app is assembled after the rules).
  const appRules: Record<SplunkAppVariant, SplunkAppRule[]> = { es: [], core: [] }
  // Per rule, its osquery pack and Fleet outputs (merged per platform after the rules).
  const osqueryRules: OsqueryRuleArtifacts[] = []
  for (const [i, rule] of rules.entries()) {
    const version = lock.rules[rule.id ?? '']?.version ?? 1
    const vars = ruleVars(rule, version)
    const artifacts: Artifact[] = [],
      skipped: Skipped[] = []
    for (const t of targets) {
      const base = targetOptions(config, t)
      // Formats made for another variant (Sentinel's rule files on Sentinel's tables) compile for it;
      // each variant once, the formats in their own order.
      const byVariant = new Map<string, Awaited<ReturnType<typeof compileSafely>> | undefined>()
      const variants = [
        ...new Set(must(formats[t], 'formats lists every target').map((f) => variantOf(t, f) ?? base.variant ?? '')),
      ]
      for (const variant of variants) {
        const groupFormats = must(formats[t], 'formats lists every target').filter(
          (f) => (variantOf(t, f) ?? base.variant ?? '') === variant,
        )
        const variantOptions = { ...base, ...(variant ? { variant } : {}) }
        const compiled = await compileSafely(rule, t, variantOptions)
        const refused = compiled.query === undefined
        const why = compiled.diagnostics.find((d) => d.severity === 'error')
        const refusal = refused && why !== undefined && why.code.startsWith('target/')
        // A refusal the rule's tests file declares (`refused:`) is expected, as in validate and test:
        // skipped and listed with its reason. An undeclared one fails the bundle unless told to skip.
        const declared = refusal ? declaredRefusals(rule.file)[refusalKey(t, variantOptions)] : undefined
        const skip = refusal && (declared !== undefined || options.skipUnsupported === true)
        for (const d of compiled.diagnostics) {
          if (declared !== undefined && d.code.startsWith('target/') && d.severity === 'error') continue
          diagnostics.push({
            ...d,
            file: d.file ?? rule.file,
            target: d.target ?? t,
            ...(skip && d.code.startsWith('target/') ? { severity: 'warning' as const } : {}),
          })
        }
        byVariant.set(variant, refused ? undefined : compiled)
        if (refused) {
          if (!why)
            diagnostics.push(
              error('bundle/no-query', `${t}: the backend returned no query and no reason`, rule.at, rule.file),
            )
          else if (skip)
            skipped.push({
              target: t,
              ...(variants.length > 1 ? { formats: groupFormats } : {}),
              code: why.code,
              message: why.message,
              ...(declared !== undefined ? { declared } : {}),
            })
        }
      }
      const osquery: { platform: string; pack?: string; fleet?: string } = { platform: '' }
      for (const format of must(formats[t], 'formats lists every target')) {
        const compiled = byVariant.get(variantOf(t, format) ?? base.variant ?? '')
        if (!compiled) continue
        const path = `${t}/${format}/${stems[i]}.${extensionOf(t, format)}`
        let text: string
        const formatVars = {
          rule: vars,
          query: must(compiled.query, 'only compiles with a query are kept'),
          target: t,
          context: { ...compiled.context, ...formatSettings(config, t) },
        }
        try {
          text = formatsOf(t).includes(format)
            ? await renderFormat(t, { name: format }, formatVars)
            : must(compiled.query, 'only compiles with a query are kept')
          for (const f of formatFindings(t, format, formatVars))
            diagnostics.push({ ...warning(f.code, f.message, rule.at, rule.file), target: t })
          const name = detectionName(t, format, formatVars)
          if (name !== undefined) {
            const list = named.get(`${t}/${format}`) ?? []
            list.push({ name, file: rule.file, at: rule.at, title: rule.title })
            named.set(`${t}/${format}`, list)
          }
        } catch (e) {
          const unsafe = e instanceof UnsafeTextError
          diagnostics.push(
            error(
              unsafe ? 'format/unsafe-text' : 'bundle/format-failed',
              unsafe ? `${t}: ${e.message}` : `${t}: format '${format}' failed: ${errorMessage(e)}`,
              rule.at,
              rule.file,
            ),
          )
          continue
        }
        const variant = APP_VARIANTS.find((v) => t === 'spl' && SPLUNK_APP_FORMATS[v] === format)
        if (variant)
          appRules[variant].push({
            query: formatVars.query,
            logsource: scalarText(compiled.context?.logsource) ?? '',
            searchPrefix: scalarText(compiled.context?.searchPrefix) ?? '',
            macros: textsOf(compiled.context?.macros),
            stanza: (search) => renderFormat(t, { name: format }, { ...formatVars, query: search }),
            version,
          })
        if (t === 'osquery' && (format === 'pack' || format === 'fleet')) {
          osquery.platform = scalarText(compiled.context?.platform) ?? 'all'
          osquery[format] = text
        }
        const data = utf8(withNewline(text))
        artifacts.push({ target: t, format, path, sha256: sha256(data) })
        files.push({ path, data })
      }
      if (osquery.pack !== undefined || osquery.fleet !== undefined) osqueryRules.push(osquery)
    }
    manifestRules.push({
      id: rule.id ?? '',
      title: rule.title,
      version,
      status: rule.status ?? null,
      level: rule.level ?? null,
      file: portable(rule.file),
      sourceSha256: sourceSha(rule.file),
      contentSha256: mustGet(contentSha, rule),
      artifacts,
      skipped,
    })
    options.onProgress?.(i + 1, rules.length)
  }

  for (const [key, list] of named) {
    const [t = '', format = ''] = key.split('/')
    diagnostics.push(...duplicateNames(t, format, list))
  }
  if (rules.length === 0 && !options.allowEmpty && !diagnostics.some((d) => d.severity === 'error'))
    diagnostics.push(
      error(
        'bundle/no-rules',
        `no rules found under ${paths.join(', ')}: an empty release is refused (is the path right? --allow-empty builds it anyway)`,
        { line: 0, col: 0 },
        paths[0],
      ),
    )
  const failing = failingRules(diagnostics)
  const base = { diagnostics, files: loaded.files, rules: rules.length }
  if (failing.length || diagnostics.some((d) => d.severity === 'error')) return { ...base, failing }

  const packages: Package[] = []
  for (const variant of APP_VARIANTS) {
    if (appRules[variant].length === 0) continue
    const app = await splunkApp(name, variant, appRules[variant], toolVersion())
    const path = `spl/splunk-app/${app.id}.tgz`
    files.push({ path, data: app.archive })
    packages.push({
      target: 'spl',
      format: `splunk-app-${variant}`,
      path,
      sha256: sha256(app.archive),
      rules: appRules[variant].length,
    })
  }

  for (const f of osqueryPackages(name, osqueryRules, toolVersion()).files) {
    const data = utf8(f.text)
    files.push({ path: f.path, data })
    packages.push({ target: 'osquery', format: f.format, path: f.path, sha256: sha256(data), rules: f.rules })
  }

  const manifest: Manifest = {
    tool: 'rulesmith',
    toolVersion: toolVersion(),
    name,
    targets,
    formats,
    previousLockSha256: options.lockSha256 ?? null,
    attack: { version: ATTACK_VERSION, source: ATTACK_SOURCE },
    rules: [...manifestRules].sort((a, b) =>
      a.file < b.file ? -1 : a.file > b.file ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    ),
    packages,
    changelog,
  }
  files.push({ path: 'manifest.json', data: utf8(JSON.stringify(manifest, null, 2) + '\n') })
  files.push({ path: 'rules.lock.json', data: utf8(JSON.stringify(lock, null, 2) + '\n') })
  files.push({ path: 'CHANGELOG.md', data: utf8(changelogMarkdown(name, changelog, options.lockSha256)) })
  const archive = `${name}.tar.gz`
  let packed: Buffer
  try {
    packed = gzip(tar(files.map((f) => ({ path: `${name}/${f.path}`, data: f.data }))))
  } catch (e) {
    if (!(e instanceof TarPathError)) throw e
    return { ...base, diagnostics: [...diagnostics, error('bundle/archive', e.message)], failing }
  }
  files.push({ path: archive, data: packed })
  files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
  // GNU coreutils' format (hash, two spaces, path), so `sha256sum -c SHA256SUMS` checks the folder.
  const sums = files.map((f) => `${sha256(f.data)}  ${f.path}\n`).join('')
  const all = [...files, { path: 'SHA256SUMS', data: utf8(sums) }]
  return { ...base, failing, bundle: { files: all, manifest, lock, archive } }
}

/** A missing or crashing backend is a diagnostic on the rule, never an exception. */
async function compileSafely(rule: Rule, target: TargetId, options: ReturnType<typeof targetOptions>) {
  try {
    return await compile(rule, target, options)
  } catch (e) {
    return {
      diagnostics: [
        error(
          'bundle/target-unavailable',
          `${target}: cannot load the backend: ${errorMessage(e)}`,
          rule.at,
          rule.file,
        ),
      ],
    } as { query?: string; diagnostics: Diagnostic[]; context?: Record<string, unknown> }
  }
}

function sourceSha(file: string): string {
  try {
    return sha256(readFileSync(file))
  } catch {
    return ''
  }
}

/** Every rule file with an error, and its errors, sorted by path (errors about no file are in `diagnostics`). */
function failingRules(ds: readonly Diagnostic[]): FailingRule[] {
  const byFile = new Map<string, Diagnostic[]>()
  for (const d of ds) {
    if (d.severity !== 'error' || d.file === undefined) continue
    const key = d.file
    byFile.set(key, [...(byFile.get(key) ?? []), d])
  }
  return [...byFile.keys()].sort().map((file) => ({ file, diagnostics: mustGet(byFile, file) }))
}
