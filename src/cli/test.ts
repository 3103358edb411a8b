import { targetOptions } from '../api.js'
import { checkVariant, parseTarget, targetsWithVariants, variantsOf } from './hints.js'
import { TARGET_IDS, type TargetId } from '../backends/types.js'
import { error, escapeControls, type Diagnostic } from '../diagnostics.js'
import { EvaluationLimitError } from '../evaluate/evaluate.js'
import { loadPaths } from '../rule/load.js'
import { testRule, type RuleTestResult, type TargetStatus } from '../proof/sample-tests.js'
import { testCorrelation, type CorrelationTestResult } from '../correlation/run.js'
import { one, parseArgs, UsageError } from './args.js'
import { configFrom, exitCode, noRulesFound, printDiagnostics, requirePaths } from './common.js'
import { progressBar } from './progress.js'
import { LeftOutCount } from './left-out.js'
import type { Command } from './main.js'
import { green, red, useColour, yellow } from './style.js'
import { itemAt } from '../guards.js'

export const command: Command = {
  summary: 'run sample-event tests',
  help: `rulesmith test [--target T|all] PATHS…

Run each rule's sample events (the file <rule>.tests.yml beside it) through the reference
evaluator — every event under match: must be selected, none under nomatch: — and through each
target's verifier on the compiled query, which must select exactly what the rule selects.
A correlation's tests file holds event streams (streams:) with the groups expected to fire;
each stream runs through the reference and through each target's compiled correlation.
A target expected to refuse a rule is listed in the tests file under refused: with the reason.

Prints a table rule × target: ok (events checked), refused (expected), FAIL.

Options:
  --target T        spl | kql | eql | osquery | all (default all)
  --variant NAME    a variant of that target (kql: sentinel); expected refusals for it are
                    listed in tests files as 'kql/sentinel: reason'
  --config FILE     config file (default .rulesmith.yml if present)
  --json            print the results as JSON on stdout
  --quiet           print failures only
  --allow-empty     paths without rules are not an error

Examples:
  rulesmith test rules/
  rulesmith test --target kql rules/windows/process_creation/
  rulesmith test --target kql --variant sentinel rules/

Exit codes: 0 all passed, 1 a test failed, a rule is invalid or PATHS hold no rules, 2 usage error.
`,
  async run(argv) {
    const args = parseArgs(argv, {
      values: ['target', 'variant', 'config'],
      switches: ['json', 'quiet', 'allow-empty'],
    })
    const t = parseTarget(one(args, 'target') ?? 'all', true)
    const variant = one(args, 'variant')
    if (variant !== undefined && t === 'all')
      throw new UsageError('--variant needs a single --target (e.g. --target kql --variant sentinel)')
    if (variant !== undefined && t !== 'all') {
      checkVariant(t, variant)
      if (variantsOf(t).length === 0)
        process.stderr.write(
          `rulesmith test: warning: --variant ${variant} has no effect: ${t} has no variants (only ${targetsWithVariants()
            .map((x) => `${x}: ${variantsOf(x).join(', ')}`)
            .join('; ')})\n`,
        )
    }
    const targets: TargetId[] = t === 'all' ? [...TARGET_IDS] : [t as TargetId]
    const paths = requirePaths(args)
    const { config, diagnostics: cd } = configFrom(args)
    const loaded = loadPaths(paths, { placeholders: config.placeholders })
    const diagnostics: Diagnostic[] = [...cd, ...loaded.diagnostics]
    diagnostics.push(...noRulesFound(args, paths, loaded.rules.length + loaded.others.length, diagnostics))
    const results: TestResult[] = []
    const total = loaded.rules.length + loaded.resolved.length
    const bar = progressBar({ rules: total, label: 'test', quiet: args.switches.has('quiet') })
    const optionsFor = (target: TargetId) => targetOptions(config, target, variant ? { variant } : {})
    for (const rule of loaded.rules) {
      const r = await testRule(rule, targets, optionsFor).catch((e: unknown): RuleTestResult => {
        // A regular expression ran out of its time budget: the rule cannot be judged on its samples.
        if (!(e instanceof EvaluationLimitError)) throw e
        return {
          rule,
          events: 0,
          referenceFailures: 1,
          targets: {},
          diagnostics: [error('limit/regex-budget', e.message, e.at, rule.file)],
        }
      })
      results.push(r)
      diagnostics.push(...r.diagnostics)
      bar.update(results.length)
    }
    // Correlations: their tests files hold event streams and the groups expected to fire.
    for (const rc of loaded.resolved) {
      const r = await testCorrelation(rc, loaded.resolved, targets, optionsFor)
      results.push(r)
      diagnostics.push(...r.diagnostics)
      bar.update(results.length)
    }
    bar.done()
    if (args.switches.has('json')) {
      process.stdout.write(
        JSON.stringify(
          results.map((r) => ({
            rule: r.rule.id,
            file: r.rule.file,
            title: r.rule.title,
            events: r.events,
            referenceFailures: r.referenceFailures,
            targets: r.targets,
          })),
          null,
          2,
        ) + '\n',
      )
    } else if (!args.switches.has('quiet')) {
      process.stdout.write(table(results, targets, useColour(process.stdout)))
    }
    if (diagnostics.length)
      printDiagnostics(
        diagnostics,
        'text',
        { files: loaded.files.length, rules: loaded.rules.length },
        args.switches.has('quiet'),
      )
    for (const target of targets) {
      const count = new LeftOutCount()
      for (const r of results) {
        const l = 'leftOut' in r ? r.leftOut?.[target] : undefined
        if (l) count.add(l.leftOut, l.events)
      }
      process.stderr.write(count.summary(`rulesmith test: ${target}`))
    }
    return exitCode(diagnostics)
  },
}

function cell(s: TargetStatus | undefined, colour: boolean): [string, string] {
  if (!s) return ['-', '-']
  switch (s.kind) {
    case 'ok':
      return [`ok ${s.events}`, green(colour, `ok ${s.events}`)]
    case 'refused':
      return [s.expected ? 'refused' : 'REFUSED', s.expected ? yellow(colour, 'refused') : red(colour, 'REFUSED')]
    case 'fail':
      return [`FAIL ${s.failures}`, red(colour, `FAIL ${s.failures}`)]
  }
}

type TestResult = RuleTestResult | CorrelationTestResult

function table(results: readonly TestResult[], targets: readonly TargetId[], colour: boolean): string {
  const header = ['rule', 'events', 'reference', ...targets]
  const rows = results.map((r) => {
    const name = escapeControls(r.rule.file.replace(/^.*?rules\//, ''))
    const ref: [string, string] =
      r.events === 0
        ? ['no samples', yellow(colour, 'no samples')]
        : r.referenceFailures
          ? [`FAIL ${r.referenceFailures}`, red(colour, `FAIL ${r.referenceFailures}`)]
          : ['ok', green(colour, 'ok')]
    return [
      [name, name],
      [String(r.events), String(r.events)],
      ref,
      ...targets.map((t) => cell(r.targets[t], colour)),
    ] as [string, string][]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => itemAt(row, i)[0].length)))
  const line = (cells: [string, string][]) =>
    cells
      .map(([plain, shown], i) => shown + ' '.repeat(itemAt(widths, i) - plain.length))
      .join('  ')
      .trimEnd()
  const refusals = results.flatMap((r) =>
    targets.flatMap((t) => {
      const s = r.targets[t]
      // The first sentence says why; the list of what the target supports is for `rulesmith targets`.
      return s?.kind === 'refused'
        ? [
            `  ${escapeControls(r.rule.file)} (${t}): ${escapeControls(s.reason.replace(/[;.] [Ss]upported.*?( \[[^\]]+\])?$/, '$1'))}`,
          ]
        : []
    }),
  )
  const total = results.reduce((n, r) => n + r.events, 0)
  const untested = results.filter((r) => r.events === 0 && r.diagnostics.every((d) => d.severity !== 'error')).length
  const passed = results.filter(
    (r) =>
      r.events > 0 &&
      r.referenceFailures === 0 &&
      targets.every(
        (t) =>
          r.targets[t]?.kind !== 'fail' &&
          !(r.targets[t]?.kind === 'refused' && !(r.targets[t] as { expected: boolean }).expected),
      ),
  ).length
  return [
    line(header.map((h) => [h, h] as [string, string])),
    ...rows.map(line),
    '',
    `${results.length} rules, ${total} sample events, targets: ${targets.join(', ')}`,
    ...(refusals.length ? ['refusals:', ...refusals] : []),
    // The plain closing line CI systems read.
    `tests: ${passed} passed, ${results.length - passed - untested} failed${untested ? `, ${untested} skipped` : ''}`,
    '',
  ].join('\n')
}
