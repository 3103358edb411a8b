/**
 * `rulesmith` command line: one module per command; this file dispatches and owns the exit codes
 * (0 success, 1 findings, 2 usage or environment error). A stack trace is a bug: anything
 * unexpected is reported as an internal error with exit 2.
 */
import { didYouMean } from '../suggest.js'
import { ConfigError, UsageError } from './args.js'
import { version } from '../version.js'
import { errorMessage } from '../guards.js'

export interface Command {
  readonly summary: string
  readonly help: string
  run(argv: readonly string[]): Promise<number>
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.js')).command,
  compile: async () => (await import('./compile.js')).command,
  test: async () => (await import('./test.js')).command,
  match: async () => (await import('./match.js')).command,
  verify: async () => (await import('./verify.js')).command,
  bundle: async () => (await import('./bundle.js')).command,
  targets: async () => (await import('./targets.js')).command,
  init: async () => (await import('./init.js')).command,
}

const SUMMARIES: Record<string, string> = {
  validate: 'check rules: schema, semantics, and a compile for every target',
  compile: 'compile rules to SPL, KQL, EQL or osquery SQL',
  test: "run each rule's sample events through the evaluator and every target's verifier",
  match: 'evaluate rules on JSON Lines events',
  verify: 'check any query text against a rule, event by event',
  bundle: 'build a reproducible release bundle of compiled detections',
  targets: 'list targets, their formats and log sources',
  init: 'scaffold a detection repository: config, pre-commit, CI workflow, an example rule',
}

const USAGE = `rulesmith ${'<command>'} [options] PATHS…

Compile Sigma detection rules to Splunk SPL, Microsoft KQL, Elastic EQL and osquery SQL,
and prove on sample events that each query selects exactly what its rule selects.

Commands:
${Object.entries(SUMMARIES)
  .map(([k, v]) => `  ${k.padEnd(10)}${v}`)
  .join('\n')}

Examples:
  rulesmith validate rules/
  rulesmith compile --target kql rules/windows/
  rulesmith test rules/
  rulesmith match --events events.jsonl rules/
  rulesmith verify --target spl --query q.spl rules/windows/process_creation/rule.yml
  rulesmith bundle --out dist/release rules/
  rulesmith init my-detections

Run 'rulesmith help <command>' (or 'rulesmith <command> --help') for a command's options.
Exit codes: 0 success, 1 findings (invalid rule, failed test, refused rule), 2 usage or environment error.
`

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(USAGE)
    return name === undefined ? 2 : 0
  }
  if (name === 'help') {
    // `rulesmith help compile` is `rulesmith compile --help`.
    const topic = rest[0]
    if (topic === undefined) {
      process.stdout.write(USAGE)
      return 0
    }
    const loadTopic = COMMANDS[topic]
    if (!loadTopic) {
      process.stderr.write(
        `rulesmith help: unknown command '${topic}'${didYouMean(topic, Object.keys(COMMANDS))}\n\n${USAGE}`,
      )
      return 2
    }
    process.stdout.write((await loadTopic()).help)
    return 0
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(version() + '\n')
    return 0
  }
  const load = COMMANDS[name]
  if (!load) {
    process.stderr.write(`rulesmith: unknown command '${name}'${didYouMean(name, Object.keys(COMMANDS))}\n\n${USAGE}`)
    return 2
  }
  const command = await load()
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help)
    return 0
  }
  try {
    return await command.run(rest)
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}rulesmith ${name}: the config has errors; nothing was run\n`)
      return 2
    }
    if (e instanceof UsageError) {
      process.stderr.write(`rulesmith ${name}: ${e.message}\nRun 'rulesmith ${name} --help' for usage.\n`)
      return 2
    }
    process.stderr.write(`rulesmith ${name}: internal error (please report): ${errorMessage(e)}\n`)
    if (process.env['RULESMITH_DEBUG']) process.stderr.write(`${e instanceof Error ? e.stack : errorMessage(e)}\n`)
    return 2
  }
}

// A reader that stops early (`rulesmith compile … | head`) closes the pipe: stop quietly with the
// status a Unix tool killed by SIGPIPE has (128 + 13), not with Node's unhandled 'error' event and
// its stack trace. Any other failure to write the output is an environment error (exit 2).
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(141)
  process.stderr.write(`rulesmith: cannot write the standard output: ${e.message}\n`)
  process.exit(2)
})
process.stderr.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 141 : 2))

// Flush stdout before exiting so piped output is never cut short.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`rulesmith: internal error (please report): ${errorMessage(e)}\n`)
    process.exitCode = 2
  },
)
