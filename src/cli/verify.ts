import { readFileSync } from 'node:fs'
import { targetOptions } from '../api.js'
import type { Diagnostic } from '../diagnostics.js'
import { readEvents } from '../events.js'
import { eventsForRule, verifyQuery, type SourcedEvent } from '../proof/verify-query.js'
import { loadPaths } from '../rule/load.js'
import { isTargetId, TARGET_IDS } from '../target-ids.js'
import { one, optionOf, parseArgs, UsageError } from './args.js'
import { configFrom, printDiagnostics } from './common.js'
import type { Command } from './main.js'
import { errnoCode, first, itemAt, must } from '../guards.js'

export const command: Command = {
  summary: 'check any query text against a rule, event by event',
  help: `rulesmith verify --target T [--variant V] --query FILE [--events FILE.jsonl] RULE

Check a query — hand-edited, or produced by another converter — against a Sigma rule: on each
event, the rule's answer (Sigma semantics) must equal the query's (the target's verifier runs the
text; it never sees the rule). Every event where they differ is printed with both answers.

Without --events the events are the rule's tests file (<rule>.tests.yml) plus adversarial events
generated from the rule: look-alike values, missing fields, and the same events from neighbouring
log sources (another event id, channel or category), which tests the query's log-source half.

An event states where it was logged with raw Windows fields (Channel, EventID, Provider_Name) or
the reserved key "_logsource" ({"product": "linux", "category": "process_creation"}); one that
states neither comes from the rule's log source.

Options:
  --target T        ${TARGET_IDS.join(' | ')}
  --query FILE      the query text ('-' for stdin)
  --events FILE     JSON Lines events, one object per line ('-' for stdin)
  --variant NAME    a target variant (kql: defender | sentinel)
  --pipeline FILE   the pipeline file the query was compiled with (field names, log sources)
  --config FILE     rulesmith.yml (default options per target)

Examples:
  rulesmith compile --target spl rules/windows/process_creation/proc_creation_win_sc_service_stop.yml > q.spl
  rulesmith verify --target spl --query q.spl rules/windows/process_creation/proc_creation_win_sc_service_stop.yml
  rulesmith verify --target kql --variant sentinel --query hunting.kql --events events.jsonl rule.yml
  other-converter rule.yml | rulesmith verify --target eql --query - rule.yml

Exit codes: 0 the query agrees with the rule on every event, 1 it does not (or the rule or the
query is invalid), 2 usage or environment error.
`,
  async run(argv) {
    const args = parseArgs(argv, { values: ['target', 'query', 'events', 'variant', 'pipeline', 'config'] })
    const target = one(args, 'target')
    if (target === undefined) throw new UsageError('--target is required')
    if (!isTargetId(target)) throw new UsageError(`--target must be one of ${TARGET_IDS.join(', ')}, not '${target}'`)
    const queryFile = one(args, 'query')
    if (queryFile === undefined) throw new UsageError('--query FILE is required')
    const eventsFile = one(args, 'events')
    if (queryFile === '-' && eventsFile === '-') throw new UsageError('--query and --events cannot both be stdin')
    if (args.positionals.length !== 1) throw new UsageError('give exactly one rule file')
    let query: string
    try {
      query = readFileSync(queryFile === '-' ? 0 : queryFile, 'utf8').replace(/\s+$/, '')
    } catch (e) {
      throw new UsageError(`cannot read the query file '${queryFile}': ${errnoCode(e) ?? 'error'}`)
    }
    const { config, diagnostics: cd } = configFrom(args)
    const loaded = loadPaths(args.positionals, { placeholders: config.placeholders })
    const diagnostics: Diagnostic[] = [...cd, ...loaded.diagnostics]
    const summary = { files: loaded.files.length, rules: loaded.rules.length }
    if (diagnostics.some((d) => d.severity === 'error') || loaded.rules.length !== 1) {
      if (loaded.rules.length > 1)
        throw new UsageError(`${args.positionals[0]} holds ${loaded.rules.length} rules; give a file with one`)
      printDiagnostics(diagnostics, 'text', summary)
      return diagnostics.some((d) => d.code.startsWith('io/') || d.code.startsWith('config/')) ? 2 : 1
    }
    const rule = first(loaded.rules)
    let events: SourcedEvent[]
    if (eventsFile !== undefined) {
      const ev = await readEvents(eventsFile)
      if (ev.diagnostics.length > 0) {
        printDiagnostics([...diagnostics, ...ev.diagnostics], 'text', summary)
        return 2
      }
      events = ev.events.map((event, i) => ({ event, from: `${eventsFile}:${itemAt(ev.lines, i) + 1}` }))
    } else {
      const generated = eventsForRule(rule)
      diagnostics.push(...generated.diagnostics)
      events = generated.events
    }
    const overrides = {
      ...optionOf('pipeline', one(args, 'pipeline')),
      ...optionOf('variant', one(args, 'variant')),
    }
    const verdict = await verifyQuery(rule, target, query, events, targetOptions(config, target, overrides))
    const out: string[] = []
    for (const i of verdict.mismatches) {
      const e = itemAt(verdict.events, i)
      out.push(
        `event ${i} (${e.from}): rule ${verdict.expected[i] ? 'selects' : 'does not select'} it, query ${must(verdict.actual, "a verdict with mismatches has the query's answers")[i] ? 'selects' : 'does not select'} it\n  ${JSON.stringify(e.event)}`,
      )
    }
    const compared = events.length - verdict.unrepresentable.length
    out.push(
      verdict.agrees
        ? `verify: the ${target} query agrees with the rule on ${compared} events${verdict.unrepresentable.length ? ` (${verdict.unrepresentable.length} not representable in the target, not compared)` : ''}`
        : verdict.actual === undefined
          ? `verify: the ${target} query could not be run`
          : `verify: the ${target} query disagrees with the rule on ${verdict.mismatches.length} of ${compared} events`,
    )
    process.stdout.write(out.join('\n') + '\n')
    const shown = diagnostics.concat(
      verdict.diagnostics.filter((d) => d.code !== 'verify/mismatch' && d.severity === 'error'),
    )
    if (shown.length) printDiagnostics(shown, 'text', summary, true)
    if (shown.some((d) => d.code.startsWith('config/'))) return 2
    return verdict.agrees ? 0 : 1
  },
}
