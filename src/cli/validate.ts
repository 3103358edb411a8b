import { targetOptions } from '../config.js'
import { choice, parseArgs } from './args.js'
import { configFrom, exitCode, noRulesFound, printDiagnostics, requirePaths } from './common.js'
import { progressBar, type Progress } from './progress.js'
import type { Command } from './main.js'
import { REPORT_FORMATS } from './report.js'

export const command: Command = {
  summary: 'check rules',
  help: `rulesmith validate [options] PATHS…

Check Sigma rules: YAML, the Sigma JSON schema, semantic checks (undefined or unused search
identifiers, modifiers, null in lists, ATT&CK tags, UUIDs, dates, duplicate ids and titles),
and a compile of each rule for every target. Never writes files.

Options:
  --format text|json|sarif|github   how to print findings (default text, on stderr;
                                     the others on stdout)
  --all-from DIR                    also read every rule under DIR for the checks that span
                                     files (duplicate ids/titles) — for pre-commit, which
                                     passes only the changed files; repeatable
  --config FILE                     config file (default .rulesmith.yml if present):
                                     targets, unsupported: error|warning|ignore, placeholders
  --no-compile                      schema and semantic checks only
  --quiet                           print errors only, no summary
  --allow-empty                     paths without rules are not an error

Examples:
  rulesmith validate rules/
  rulesmith validate --format sarif rules/ > rulesmith.sarif
  rulesmith validate --all-from rules/ rules/windows/new_rule.yml

Exit codes: 0 clean (warnings allowed), 1 errors found or no rules in PATHS, 2 usage error,
unreadable path or broken config.
`,
  async run(argv) {
    const args = parseArgs(argv, {
      values: ['format', 'config'],
      repeatable: ['all-from'],
      switches: ['no-compile', 'quiet', 'allow-empty'],
    })
    const format = choice(args, 'format', REPORT_FORMATS, 'text')
    const paths = requirePaths(args)
    const { config, diagnostics: configDiagnostics } = configFrom(args)
    const compile = !args.switches.has('no-compile')
    if (compile && config.targets.includes('kql')) {
      // The KQL gate's child, when it will be needed, starts while the rest of rulesmith loads.
      const kql = targetOptions(config, 'kql')
      const { startKqlGateEarly } = await import('../verify/kql-gate-cache.js')
      await startKqlGateEarly(paths, kql.variant, JSON.stringify(kql))
    }
    const { validate } = await import('../api.js')
    let bar: Progress | undefined
    const result = await validate(paths, {
      config,
      allFrom: args.values.get('all-from') ?? [],
      compile,
      onProgress: (done, total) => {
        bar ??= progressBar({
          rules: total / Math.max(1, config.targets.length),
          total,
          label: 'validate',
          quiet: args.switches.has('quiet'),
        })
        bar.update(done)
      },
    })
    bar?.done()
    const ds = [...configDiagnostics, ...result.diagnostics]
    ds.push(...noRulesFound(args, paths, result.rules.length + result.others.length, ds))
    printDiagnostics(
      ds,
      format,
      { files: result.files.length, rules: result.rules.length, declaredRefusals: result.declaredRefusals },
      args.switches.has('quiet'),
    )
    return exitCode(ds)
  },
}
