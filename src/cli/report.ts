/** Printing diagnostics: text (GNU `file:line:col`), json, SARIF 2.1.0 and GitHub annotations. */
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { escapeControls, formatDiagnostic, sortDiagnostics, type Diagnostic } from '../diagnostics.js'
import { bold, red, useColour, yellow } from './style.js'
import { version } from '../version.js'

export type ReportFormat = 'text' | 'json' | 'sarif' | 'github'
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'sarif', 'github']

export interface Summary {
  readonly files: number
  readonly rules: number
  /** Refusals declared in tests files (validate): counted, not listed. */
  readonly declaredRefusals?: number
}

export function counts(ds: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0,
    warnings = 0
  for (const d of ds) {
    if (d.severity === 'error') errors++
    else warnings++
  }
  return { errors, warnings }
}

/** Render the diagnostics in the chosen format: the text for stdout. */
export function renderReport(
  format: ReportFormat,
  diagnostics: readonly Diagnostic[],
  summary: Summary,
  colour = false,
): string {
  const ds = sortDiagnostics(diagnostics)
  switch (format) {
    case 'text':
      return ds.map((d) => colourise(formatDiagnostic(d), d, colour) + '\n').join('')
    case 'json':
      return (
        JSON.stringify(
          { tool: 'rulesmith', version: version(), ...summary, ...counts(ds), diagnostics: ds.map(toJson) },
          null,
          2,
        ) + '\n'
      )
    case 'sarif':
      return JSON.stringify(toSarif(ds), null, 2) + '\n'
    case 'github':
      return ds.map(toGithub).join('')
  }
}

function colourise(line: string, d: Diagnostic, on: boolean): string {
  if (!on) return line
  const tag = `${d.severity}:`
  return line.replace(tag, d.severity === 'error' ? bold(true, red(true, tag)) : bold(true, yellow(true, tag)))
}

function toJson(d: Diagnostic) {
  return {
    file: d.file ?? null,
    line: (d.at?.line ?? 0) + 1,
    col: (d.at?.col ?? 0) + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
    ...(d.target ? { target: d.target } : {}),
  }
}

/** SARIF 2.1.0 (OASIS), as GitHub code scanning reads it: one run, one rule per code. */
function toSarif(ds: readonly Diagnostic[]) {
  const codes = [...new Set(ds.map((d) => d.code))].sort()
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'rulesmith',
            version: version(),
            informationUri: 'https://github.com/rulesmith/rulesmith',
            rules: codes.map((code) => ({
              id: code,
              name: code.replace(/[/-](\w)/g, (_, c: string) => c.toUpperCase()),
              shortDescription: { text: code },
            })),
          },
        },
        results: ds.map((d) => ({
          ruleId: d.code,
          ruleIndex: codes.indexOf(d.code),
          level: d.severity === 'error' ? 'error' : 'warning',
          message: { text: d.target ? `${d.message}` : d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: sarifUri(d.file) },
                region: { startLine: (d.at?.line ?? 0) + 1, startColumn: (d.at?.col ?? 0) + 1 },
              },
            },
          ],
        })),
      },
    ],
  }
}

/**
 * A SARIF artifact location is a URI, not a path: relative to the working folder (the repository
 * root in CI, where code scanning resolves it), percent-encoded; a file outside it becomes a
 * `file://` URI. https://docs.github.com/code-security/secure-coding/sarif-support-for-code-scanning
 */
function sarifUri(file: string | undefined): string {
  if (file === undefined) return 'unknown'
  const abs = resolve(file)
  const rel = relative(process.cwd(), abs)
  if (rel.startsWith('..') || isAbsolute(rel)) return pathToFileURL(abs).href
  return rel
    .split(sep)
    .map((part) => encodeURIComponent(part))
    .join('/')
}

/**
 * GitHub Actions workflow commands; data and properties escaped as the runner expects (%, CR,
 * LF; and `:` `,` in properties), and other control characters written as escapes, so that a
 * file name can neither end the command nor start another `::command` line.
 */
function toGithub(d: Diagnostic): string {
  const data = (s: string) => escapeControls(s.replace(/%/g, '%25'), '\r\n').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
  const prop = (s: string) => escapeControls(s.replace(/%/g, '%25')).replace(/:/g, '%3A').replace(/,/g, '%2C')
  const cmd = d.severity === 'error' ? 'error' : 'warning'
  return `::${cmd} file=${prop(d.file ?? '')},line=${(d.at?.line ?? 0) + 1},col=${(d.at?.col ?? 0) + 1},title=${prop(d.code)}::${data(d.message)}\n`
}

export function summaryLine(ds: readonly Diagnostic[], summary: Summary, colour: boolean): string {
  const { errors, warnings } = counts(ds)
  const declared = summary.declaredRefusals
    ? `; ${summary.declaredRefusals} target refusal${summary.declaredRefusals === 1 ? '' : 's'} declared in tests files`
    : ''
  const text = `${summary.rules} rule${summary.rules === 1 ? '' : 's'} in ${summary.files} file${summary.files === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${declared}`
  return (errors ? red(colour, text) : text) + '\n'
}

export { useColour }
