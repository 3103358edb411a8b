/** Pieces several commands share: loading the config, printing diagnostics. */
import { loadConfig, type Config } from '../config.js'
import { sortDiagnostics, type Diagnostic } from '../diagnostics.js'
import { one, UsageError, type ParsedArgs } from './args.js'
import { renderReport, summaryLine, useColour, type ReportFormat, type Summary } from './report.js'

export function configFrom(args: ParsedArgs): { config: Config; diagnostics: Diagnostic[] } {
  return loadConfig(one(args, 'config'))
}

export function requirePaths(args: ParsedArgs): string[] {
  if (args.positionals.length === 0) throw new UsageError('give at least one rule file or folder')
  return args.positionals
}

/** Print diagnostics on stderr (text) or stdout (machine formats), with a summary on stderr. */
export function printDiagnostics(
  all: readonly Diagnostic[],
  format: ReportFormat,
  summary: Summary,
  quiet = false,
): void {
  // The same finding reached twice (a broken template, once per rule) is printed and counted once.
  const ds = sortDiagnostics(all)
  if (format === 'text') {
    process.stderr.write(
      renderReport('text', quiet ? ds.filter((d) => d.severity === 'error') : ds, summary, useColour(process.stderr)),
    )
  } else {
    process.stdout.write(renderReport(format, ds, summary))
  }
  if (!quiet && format === 'text') process.stderr.write(summaryLine(ds, summary, useColour(process.stderr)))
}

/** Exit 2 when a path could not be read or the config is broken; 1 when any error; else 0. */
export function exitCode(ds: readonly Diagnostic[]): number {
  // An unreadable path, a broken config, pipeline or template file: the run could not be set up.
  if (ds.some((d) => d.severity === 'error' && (d.code.startsWith('io/') || d.code.startsWith('config/')))) return 2
  return ds.some((d) => d.severity === 'error') ? 1 : 0
}
