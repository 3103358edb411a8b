import { targetOptions } from '../api.js'
import { loadBackend } from '../backends/index.js'
import { loadVerifier } from '../verify/index.js'
import { withOrigin } from '../origin.js'
import { located } from '../proof/equivalence.js'
import type { TargetId } from '../backends/types.js'
import { evaluateRule, EvaluationLimitError } from '../evaluate/evaluate.js'
import { readEventBatches } from '../events.js'
import { loadPaths } from '../rule/load.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import { error, type Diagnostic } from '../diagnostics.js'
import { correlate, type Correlated } from '../evaluate/correlate.js'
import { matchCorrelationOnTarget, standaloneRules, withCorrelationOrigin } from '../correlation/run.js'
import { one, optionOf, parseArgs, UsageError } from './args.js'
import { configFrom, exitCode, printDiagnostics, requirePaths } from './common.js'
import type { Command } from './main.js'
import { checkVariant, parseTarget, variantsOf } from './hints.js'
import { Spool } from './spool.js'
import { LeftOutCount } from './left-out.js'
import { itemAt, must } from '../guards.js'

export const command: Command = {
  summary: 'evaluate rules on events',
  help: `rulesmith match --events FILE.jsonl [--target T] PATHS…

Evaluate rules on events (JSON Lines, Sigma taxonomy field names at the top level; dotted names
reach into nested objects) and print one JSON line per match:
  {"rule":"<id>","title":"…","event":<0-based line index>}
and one per correlation group that fires (its earliest window), with the events that made it:
  {"rule":"<id>","title":"…","group":{"Computer":"WS1"},"events":[<0-based line indexes>]}
A rule that a correlation refers to is reported on its own only if the correlation says
generate: true. Each event's time is read from its log source's time field (docs/semantics.md).

Without --target the reference evaluator (Sigma semantics) decides; with --target the rule is
compiled and the emitted query text is parsed back and evaluated by that target's verifier.

Options:
  --events FILE     the events, one JSON object per line ('-' for stdin)
  --target T        spl | kql | eql | osquery
  --pipeline FILE   a YAML file adding log sources or overriding field names for --target
  --variant NAME    a target variant (kql: defender | sentinel)
  --config FILE     config file (default .rulesmith.yml if present)

Examples:
  rulesmith match --events events.jsonl rules/
  rulesmith match --events events.jsonl --target kql rules/windows/

Exit codes: 0 ran (matches or not), 1 a rule is invalid or a target refused it, 2 usage error.
`,
  async run(argv) {
    const args = parseArgs(argv, { values: ['events', 'target', 'pipeline', 'variant', 'config'] })
    const eventsFile = one(args, 'events')
    if (!eventsFile) throw new UsageError('--events FILE is required')
    const given = one(args, 'target')
    const target = given === undefined ? undefined : parseTarget(given, false)
    noEffectWithoutTarget(args, target)
    const paths = requirePaths(args)
    const { config, diagnostics: cd } = configFrom(args)
    const loaded = loadPaths(paths, { placeholders: config.placeholders })
    const diagnostics: Diagnostic[] = [...cd, ...loaded.diagnostics]
    const summary = { files: loaded.files.length, rules: loaded.rules.length }
    const standalone = standaloneRules(loaded.rules, loaded.resolved)
    const overrides = {
      ...optionOf('pipeline', one(args, 'pipeline')),
      ...optionOf('variant', one(args, 'variant')),
    }
    const options = target === undefined ? undefined : targetOptions(config, target, overrides)
    // Each rule compiled once, before any event is read; a refused rule has no query.
    const queries = new Map<Rule, string | undefined>()
    if (target !== undefined) {
      const backend = await loadBackend(target)
      for (const rule of standalone) {
        const compiled = backend.compile(rule, options)
        diagnostics.push(...compiled.diagnostics)
        queries.set(rule, compiled.query)
      }
    }
    const verifier = target === undefined ? undefined : await loadVerifier(target)
    // Correlations look across events (time windows), so their events are kept; single rules see
    // one batch at a time and memory stays flat in the size of the events file.
    const keep = loaded.resolved.length > 0
    const kept: { events: JsonEvent[]; lines: number[] } = { events: [], lines: [] }
    // Matches wait in a spool until the whole file has been read: a bad line at the end means no
    // output at all, never a partial one, while memory stays flat (the spool goes to disk).
    const spool = new Spool()
    const leftOut = new LeftOutCount()
    try {
      for await (const batch of readEventBatches(eventsFile)) {
        diagnostics.push(...batch.diagnostics)
        if (batch.diagnostics.some((d) => d.severity === 'error')) {
          printDiagnostics(diagnostics, 'text', summary)
          return 2
        }
        if (keep) {
          kept.events.push(...batch.events)
          kept.lines.push(...batch.lines)
        }
        for (const rule of standalone) {
          let hits: readonly boolean[] | undefined
          // An event that states no origin is taken to come from the rule's log source.
          const events = withOrigin(batch.events, rule.logsource)
          if (verifier === undefined) {
            try {
              hits = events.map((e) => evaluateRule(rule, e))
            } catch (e) {
              if (!(e instanceof EvaluationLimitError)) throw e
              diagnostics.push(error('limit/regex-budget', e.message, e.at, rule.file))
              printDiagnostics(diagnostics, 'text', summary)
              return 1
            }
          } else {
            const query = queries.get(rule)
            if (query === undefined) continue
            const verified = await verifier.verify(query, events, options)
            // A verifier numbers events within the batch; the file's numbering is batch.first on.
            diagnostics.push(
              ...located(verified, rule, must(target, 'a verifier exists only with a target')).map((d) =>
                batch.first === 0
                  ? d
                  : {
                      ...d,
                      message: d.message.replace(/\bevent (\d+)/, (_, n: string) => `event ${Number(n) + batch.first}`),
                    },
              ),
            )
            hits = verified.matches
            if (hits) leftOut.add(verified.leftOut ?? [], events.length)
          }
          hits?.forEach((hit, i) => {
            if (hit)
              spool.write(
                JSON.stringify({ rule: rule.id ?? rule.file, title: rule.title, event: batch.lines[i] }) + '\n',
              )
          })
        }
      }
      for (const rc of loaded.resolved) {
        const c = rc.correlation
        let found: Correlated | undefined
        if (target === undefined) {
          try {
            found = correlate(rc, withCorrelationOrigin(kept.events, rc, loaded.resolved), loaded.resolved)
          } catch (e) {
            if (!(e instanceof EvaluationLimitError)) throw e
            diagnostics.push(error('limit/regex-budget', e.message, e.at, c.file))
            printDiagnostics(diagnostics, 'text', summary)
            return 1
          }
        } else {
          const checked = await matchCorrelationOnTarget(
            target,
            rc,
            kept.events,
            must(options, 'a target was given, so it has options'),
          )
          diagnostics.push(...checked.diagnostics)
          found = checked.correlated
        }
        if (!found) continue
        for (const tl of found.timeless)
          diagnostics.push(
            error(
              'events/no-time',
              `${c.title}: event ${tl.message}`,
              { line: itemAt(kept.lines, tl.index), col: 0 },
              eventsFile,
            ),
          )
        for (const m of found.matches)
          spool.write(
            JSON.stringify({
              rule: c.id ?? c.name ?? c.file,
              title: c.title,
              group: m.group,
              events: m.events.map((i) => kept.lines[i]),
            }) + '\n',
          )
      }
      await spool.copyTo(process.stdout)
    } finally {
      spool.close()
    }
    if (diagnostics.length) printDiagnostics(diagnostics, 'text', summary, true)
    if (target !== undefined) process.stderr.write(leftOut.summary(`rulesmith match: ${target}`))
    return exitCode(diagnostics)
  },
}

/** --pipeline and --variant shape a target's query: without --target nothing is compiled. */
function noEffectWithoutTarget(args: ReturnType<typeof parseArgs>, target: TargetId | undefined): void {
  const variant = one(args, 'variant')
  if (target !== undefined) {
    if (variant === undefined) return
    checkVariant(target, variant)
    if (variantsOf(target).length === 0)
      process.stderr.write(`rulesmith match: warning: --variant ${variant} has no effect: ${target} has no variants\n`)
    return
  }
  for (const flag of ['pipeline', 'variant'])
    if (one(args, flag) !== undefined)
      process.stderr.write(
        `rulesmith match: warning: --${flag} has no effect without --target (the reference evaluator reads no query)\n`,
      )
}
