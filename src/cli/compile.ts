import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { targetOptions } from '../api.js'
import { compileFiles } from '../compile-files.js'
import { TARGET_IDS, type TargetId } from '../backends/types.js'
import type { Diagnostic } from '../diagnostics.js'
import { formatsOf } from '../formats/render.js'
import { collectFiles } from '../rule/load.js'
import { one, parseArgs, UsageError } from './args.js'
import { configFrom, exitCode, printDiagnostics, requirePaths } from './common.js'
import type { Command } from './main.js'
import {
  checkOutDir,
  COMPILE_OUTPUT,
  ioFailure,
  OutDirError,
  outputNotWritten,
  writeAtomically,
  writeFsFromEnv,
} from '../bundle/write.js'
import type { TarFile } from '../bundle/tar.js'
import { error } from '../diagnostics.js'
import {
  extensionOf,
  outOverlapsInputs,
  outputCollisions,
  stemsFor,
  type OutputOwner,
} from '../formats/output-files.js'
import { version } from '../version.js'
import { progressBar } from './progress.js'

export const command: Command = {
  summary: 'compile rules',
  help: `rulesmith compile --target spl|kql|eql|osquery|all [options] PATHS…

Compile Sigma rules into target queries. Without --out, the rendered artifacts go to stdout,
one after another separated by a blank line; with --out, one file per rule and target:
  DIR/<target>/<format>/<rule file name>.<ext>

Options:
  --target T           spl | kql | eql | osquery | all (required)
  --format NAME        a format from targets/<target>/formats/ (default: default, the bare query);
                       see 'rulesmith targets'
  --template FILE.hbs  render with your own handlebars template instead; variables:
                       rule.{id,title,description,author,date,modified,status,level,tags,
                       references,falsepositives,logsource,attack.{tactics,tacticNames,techniques},
                       file,version}, query, target, context (target facts: table, index …)
  --out DIR            write files instead of printing, and DIR/compile-manifest.json listing
                       each file (rule, target, format, sha256) and each rule skipped. All or
                       nothing: the files are written to a temporary folder beside DIR and
                       swapped in; on any error nothing is written and DIR stays as it was.
                       DIR is replaced whole (files a run no longer produces disappear), so it
                       must be new, empty or an earlier compile output (it has
                       compile-manifest.json); a symbolic link to a folder is followed. DIR may
                       not be inside a rule path nor hold one.
  --pipeline FILE      YAML adding log sources / overriding field names (one target only)
  --variant NAME       target variant (kql: defender | sentinel)
  --skip-unsupported   a rule a target cannot express is listed on stderr and skipped
                       (exit 0); without it such a rule makes the exit code 1
  --config FILE        config file (default .rulesmith.yml if present)
  --quiet              print errors only

Examples:
  rulesmith compile --target kql rules/
  rulesmith compile --target spl --format savedsearches --out build/ rules/
  rulesmith compile --target all --skip-unsupported --out build/ rules/

Exit codes: 0 all compiled (or skipped with --skip-unsupported), 1 invalid or refused rule,
2 usage error or unreadable path.
`,
  async run(argv) {
    const args = parseArgs(argv, {
      values: ['target', 'format', 'template', 'out', 'pipeline', 'variant', 'config'],
      switches: ['skip-unsupported', 'quiet'],
    })
    const targetArg = one(args, 'target')
    if (!targetArg) throw new UsageError('--target is required (spl, kql, eql, osquery or all)')
    if (targetArg !== 'all' && !(TARGET_IDS as readonly string[]).includes(targetArg))
      throw new UsageError(`--target must be one of spl, kql, eql, osquery, all, not '${targetArg}'`)
    const targets: TargetId[] = targetArg === 'all' ? [...TARGET_IDS] : [targetArg as TargetId]
    const format = one(args, 'format') ?? 'default'
    const template = one(args, 'template')
    if (template && one(args, 'format')) throw new UsageError('give --format or --template, not both')
    if (template && !existsSync(template)) throw new UsageError(`template '${template}' does not exist`)
    if (!template) {
      for (const t of targets) {
        const available = formatsOf(t)
        if (targetArg === 'all' && format !== 'default') continue
        if (!available.includes(format))
          throw new UsageError(`target ${t} has no format '${format}' (it has: ${available.join(', ')})`)
      }
    }
    if (one(args, 'pipeline') && targets.length > 1)
      throw new UsageError("--pipeline applies to one target; use the config file's pipelines: map with --target all")
    const skip = args.switches.has('skip-unsupported')
    const out = one(args, 'out')
    const paths = requirePaths(args)
    if (out) {
      const overlap = outOverlapsInputs(out, paths)
      if (overlap) throw new UsageError(overlap)
      try {
        checkOutDir(out, COMPILE_OUTPUT)
      } catch (e) {
        if (e instanceof OutDirError) throw new UsageError(e.message)
        throw e
      }
    }
    const { config, diagnostics: cd } = configFrom(args)
    const collected = collectFiles(paths)
    const overrides = {
      ...(one(args, 'pipeline') ? { pipeline: one(args, 'pipeline')! } : {}),
      ...(one(args, 'variant') ? { variant: one(args, 'variant')! } : {}),
    }
    const formatOf = (t: TargetId) => (targetArg === 'all' && !formatsOf(t).includes(format) ? 'default' : format)
    const bar = progressBar({ rules: collected.files.length, label: 'compile', quiet: args.switches.has('quiet') })
    const compiledFiles = await compileFiles(collected.files, {
      targets,
      formats: Object.fromEntries(targets.map((t) => [t, template ? { file: template } : { name: formatOf(t) }])),
      options: Object.fromEntries(targets.map((t) => [t, targetOptions(config, t, overrides)])),
      placeholders: config.placeholders,
    })
    bar.update(collected.files.length)
    const rules = compiledFiles.rules
    const diagnostics: Diagnostic[] = [...cd, ...collected.diagnostics, ...compiledFiles.diagnostics]
    const stems = stemsFor(rules.map((r) => r.rule))
    const printed: string[] = []
    const skipped: string[] = []
    // What --out wrote and skipped, for DIR/compile-manifest.json (CI reads it, people read stderr).
    const manifest: { written: object[]; skipped: object[] } = { written: [], skipped: [] }
    // --out: the files in memory first, written all at once if nothing failed.
    const files: TarFile[] = []
    const owners: OutputOwner[] = []
    for (const t of targets) {
      const fmt = formatOf(t)
      for (const [i, { rule, results }] of rules.entries()) {
        const result = results[t]!
        const refusal = result.text === undefined
        diagnostics.push(
          ...result.diagnostics.map((d) =>
            refusal && skip && d.code.startsWith('target/') ? { ...d, severity: 'warning' as const } : d,
          ),
        )
        if (refusal) {
          const why = result.diagnostics.find((d) => d.severity === 'error')
          if (skip) skipped.push(`${t}\t${rule.file}\t${why?.code ?? 'refused'}`)
          if (skip)
            manifest.skipped.push({
              target: t,
              rule: rule.id ?? null,
              file: portable(rule.file),
              code: why?.code ?? 'refused',
              message: why?.message ?? '',
            })
          continue
        }
        const text = result.text!
        if (out) {
          const path = `${t}/${template ? 'custom' : fmt}/${stems[i]}.${extensionOf(t, fmt, template)}`
          const data = text.endsWith('\n') ? text : text + '\n'
          files.push({ path, data: Buffer.from(data, 'utf8') })
          owners.push({ path, file: rule.file, at: rule.at })
          manifest.written.push({
            target: t,
            format: template ? 'custom' : fmt,
            rule: rule.id ?? null,
            file: portable(rule.file),
            path,
            sha256: createHash('sha256').update(data).digest('hex'),
          })
        } else {
          printed.push(text.endsWith('\n') ? text : text + '\n')
        }
      }
    }
    bar.done()
    diagnostics.push(...outputCollisions(owners))
    if (printed.length) process.stdout.write(printed.join('\n'))
    if (out && diagnostics.some((d) => d.severity === 'error')) {
      if (!args.switches.has('quiet')) process.stderr.write(`rulesmith compile: nothing written to ${out}\n`)
    } else if (out) {
      const data = JSON.stringify({ tool: 'rulesmith', toolVersion: version(), ...manifest }, null, 2) + '\n'
      try {
        writeAtomically(
          out,
          [...files, { path: COMPILE_OUTPUT.manifest, data: Buffer.from(data, 'utf8') }],
          COMPILE_OUTPUT,
          writeFsFromEnv(),
        )
      } catch (e) {
        if (e instanceof OutDirError) throw new UsageError(e.message)
        const io = ioFailure(e)
        if (!io) throw e
        diagnostics.push(error(io.code, outputNotWritten(io.reason), undefined, out))
      }
    }
    if (skipped.length && !args.switches.has('quiet'))
      process.stderr.write(`skipped (unsupported), target\tfile\treason:\n${skipped.map((s) => '  ' + s).join('\n')}\n`)
    const summary = { files: collected.files.length, rules: rules.length }
    if (diagnostics.length) printDiagnostics(diagnostics, 'text', summary, args.switches.has('quiet'))
    return exitCode(diagnostics)
  },
}

/** A rule's path relative to the working folder, with `/`: the same on every machine. */
const portable = (file: string): string => relative(process.cwd(), resolve(file)).split(sep).join('/')
