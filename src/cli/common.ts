/** Pieces several commands share: loading the config, printing diagnostics. */
import { loadConfig, type Config } from '../config.js'
import { setLimits } from '../limits.js'
import { error, formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../diagnostics.js'
import { ConfigError, one, UsageError, type ParsedArgs } from './args.js'
import { variantsOf } from './hints.js'
import { renderReport, summaryLine, useColour, type ReportFormat, type Summary } from './report.js'

/**
 * The config (`--config FILE` or `.rulesmith.yml`). A broken config stops the command before any
 * rule is read: its findings are printed once, at their line and column, and the exit code is 2;
 * running on with defaults would check something other than what the repository asked for.
 */
export function configFrom(args: ParsedArgs): { config: Config; diagnostics: Diagnostic[] } {
  const loaded = loadConfig(one(args, 'config'), { variantsOf })
  if (hasErrors(loaded.diagnostics))
    throw new ConfigError(
      sortDiagnostics(loaded.diagnostics)
        .map((d) => formatDiagnostic(d) + '\n')
        .join(''),
    )
  // The config's limits, and --follow-links, hold for the whole run.
  setLimits(loaded.config.limits, { followLinks: args.switches.has('follow-links') })
  return loaded
}

export function requirePaths(args: ParsedArgs): string[] {
  if (args.positionals.length === 0) throw new UsageError('give at least one rule file or folder')
  return args.positionals
}

/**
 * Paths that hold no rules are an error (exit 1), not a green run: a CI job pointed at the wrong
 * folder would otherwise pass forever. `--allow-empty` accepts it; a run that already has errors
 * (unreadable path, broken files) needs no second finding.
 */
export function noRulesFound(
  args: ParsedArgs,
  paths: readonly string[],
  documents: number,
  ds: readonly Diagnostic[],
): Diagnostic[] {
  if (documents > 0 || args.switches.has('allow-empty') || hasErrors(ds)) return []
  const where = paths.map((p) => `'${p}'`).join(', ')
  return [
    error(
      'input/no-rules',
      `no rules found in ${where}, so nothing was checked: is the path right? (--allow-empty accepts no rules)`,
      { line: 0, col: 0 },
      paths[0],
    ),
  ]
}

/** Print diagnostics on stderr (text) or stdout (machine formats), with a summary on stderr. */
export function printDiagnostics(
  all: readonly Diagnostic[],
  format: ReportFormat,
  summary: Summary,
  quiet = false,
): void {
  // The same finding reached twice (a broken template, once per rule) is printed and counted once;
  // so is a broken pipeline file, which each backend reports on every rule it compiles.
  const seen = new Set<string>()
  const ds = sortDiagnostics(all).filter((d) => {
    if (!d.code.startsWith('config/')) return true
    const key = `${d.code}\u0000${d.target ?? ''}\u0000${d.message}`
    return seen.has(key) ? false : (seen.add(key), true)
  })
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
