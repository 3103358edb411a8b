import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { targetOptions } from '../api.js'
import { compileFiles } from '../compile-files.js'
import { TARGET_IDS, type TargetId, type TargetOptions } from '../backends/types.js'
import type { Diagnostic } from '../diagnostics.js'
import { formatsOf } from '../formats/render.js'
import { collectFiles } from '../rule/load.js'
import { one, parseArgs, UsageError } from './args.js'
import { configFrom, exitCode, noRulesFound, printDiagnostics, requirePaths } from './common.js'
import { formatSettings } from '../config.js'
import { checkVariant, parseTarget, variantsOf } from './hints.js'
import { commentStyleFor, queryHeader } from './query-header.js'
import { didYouMean } from '../suggest.js'
import { declaredRefusals, refusalKey } from '../proof/sample-tests.js'
import type { Command } from './main.js'
import {
  checkOutDir,
  COMPILE_OUTPUT,
  ioFailure,
  leftBehindWarning,
  OutDirError,
  outputNotWritten,
} from '../bundle/write.js'
import { StreamedOutput } from '../bundle/stream-write.js'
import { error } from '../diagnostics.js'
import {
  extensionOf,
  outOverlapsInputs,
  outputCollisions,
  stemsFor,
  variantOf,
  type OutputOwner,
} from '../formats/output-files.js'
import { version } from '../version.js'
import { progressBar } from './progress.js'
import { entryOf, first, must, mustGet } from '../guards.js'

export const command: Command = {
  summary: 'compile rules',
  help: `rulesmith compile --target spl|kql|eql|osquery|all [options] PATHS…

Compile Sigma rules into target queries. Without --out, the rendered artifacts go to stdout,
one after another separated by a blank line. A query (the default format) comes under a header
in the target's comment syntax (SPL \`\`\` \`\`\`, KQL and EQL //, SQL --) naming the rule id,
title, file and target; the other formats are files that name their rule. With --out, one
file per rule and target, without a header:
  DIR/<target>/<format>/<rule file name>.<ext>
A refusal that the rule's tests file declares under refused: is expected: listed on stderr,
counted in the summary, not an error.

Options:
  --target T           spl | kql | eql | osquery | all (required)
  --format NAME        a format from targets/<target>/formats/ (default: default, the bare query);
                       see 'rulesmith targets'. With --target all, a format only some targets
                       have is used for those; the others print their default (with a warning)
  --format json        one JSON array on stdout for machines: per rule and target its id,
                       title, file, target, variant and query, or the refusal (code, message,
                       the declared reason or null)
  --no-header          print the bare queries, without the header comments
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
  --variant NAME       target variant; kql: the schema families the workspace has, one or a
                       comma list (defender, sentinel, asim; e.g. defender,sentinel)
  --skip-unsupported   a rule a target cannot express is listed on stderr and skipped
                       (exit 0); without it such a rule makes the exit code 1, unless its
                       tests file declares the refusal
  --config FILE        config file (default .rulesmith.yml if present)
  --quiet              print errors only
  --allow-empty        paths without rules are not an error

Examples:
  rulesmith compile --target kql rules/
  rulesmith compile --target all --format json rules/ > queries.json
  rulesmith compile --target spl --format savedsearches --out build/ rules/
  rulesmith compile --target all --skip-unsupported --out build/ rules/

Exit codes: 0 all compiled (or skipped with --skip-unsupported, or refused as declared), 1 an
invalid rule, an undeclared refusal or no rules in PATHS, 2 usage error, unreadable path or
broken config.
`,
  async run(argv) {
    const args = parseArgs(argv, {
      values: ['target', 'format', 'template', 'out', 'pipeline', 'variant', 'config'],
      switches: ['skip-unsupported', 'quiet', 'no-header', 'allow-empty'],
    })
    const targetArg = one(args, 'target')
    if (!targetArg) throw new UsageError('--target is required (spl, kql, eql, osquery or all)')
    const targetChoice = parseTarget(targetArg, true)
    const targets: TargetId[] = targetChoice === 'all' ? [...TARGET_IDS] : [targetChoice]
    const json = one(args, 'format') === 'json'
    const format = json ? 'default' : (one(args, 'format') ?? 'default')
    const template = one(args, 'template')
    const out = one(args, 'out')
    const noHeader = args.switches.has('no-header')
    if (template && one(args, 'format')) throw new UsageError('give --format or --template, not both')
    if (template && !existsSync(template)) throw new UsageError(`template '${template}' does not exist`)
    if (json && out) throw new UsageError('--format json prints to stdout; leave out --out (or choose a format)')
    const notes: string[] = []
    if (!template && !json) {
      const having = targets.filter((t) => formatsOf(t).includes(format))
      if (having.length === 0 || (targetChoice !== 'all' && having.length < targets.length)) {
        const known = [...new Set([...targets.flatMap((t) => formatsOf(t)), 'json'])]
        throw new UsageError(
          targetChoice === 'all'
            ? `no target has a format '${format}' (formats: ${known.join(', ')})${didYouMean(format, known)}`
            : `target ${targets[0]} has no format '${format}' (it has: ${formatsOf(first(targets)).join(', ')}, json)${didYouMean(format, [...formatsOf(first(targets)), 'json'])}`,
        )
      }
      const without = targets.filter((t) => !having.includes(t))
      if (without.length)
        notes.push(
          `--format ${format} is a format of ${having.join(', ')} only; ${without.join(', ')} ${without.length === 1 ? 'prints its' : 'print their'} default format`,
        )
    }
    const pipeline = one(args, 'pipeline')
    if (pipeline && targets.length > 1)
      throw new UsageError("--pipeline applies to one target; use the config file's pipelines: map with --target all")
    if (pipeline && !existsSync(pipeline)) throw new UsageError(`pipeline file '${pipeline}' does not exist`)
    const variant = one(args, 'variant')
    // With several targets, a variant goes to the targets that have it (kql's sentinel, spl's cim).
    const takes = (t: TargetId): boolean => {
      if (variant === undefined) return false
      try {
        checkVariant(t, variant)
        return true
      } catch {
        return false
      }
    }
    let withVariants: TargetId[] = []
    if (variant !== undefined) {
      withVariants = targets.filter((t) => variantsOf(t).length > 0)
      if (targets.length > 1 && withVariants.some(takes)) withVariants = withVariants.filter(takes)
      for (const t of withVariants) checkVariant(t, variant)
      const ignoring = targets.filter((t) => !withVariants.includes(t))
      if (withVariants.length === 0)
        notes.push(
          `--variant ${variant} has no effect: ${targets.join(', ')} has no variants (only ${variantSummary()})`,
        )
      else if (ignoring.length)
        notes.push(`--variant ${variant} applies to ${withVariants.join(', ')} only, not ${ignoring.join(', ')}`)
    }
    if (noHeader && (out || json))
      notes.push(
        `--no-header has no effect with ${out ? '--out' : '--format json'}: headers are printed on stdout only`,
      )
    const skip = args.switches.has('skip-unsupported')
    const quiet = args.switches.has('quiet')
    for (const n of notes) process.stderr.write(`rulesmith compile: warning: ${n}\n`)
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
    const overrides = (t: TargetId) => ({
      ...(pipeline ? { pipeline } : {}),
      ...(variant && withVariants.includes(t) ? { variant } : {}),
    })
    const formatOf = (t: TargetId) => (!formatsOf(t).includes(format) ? 'default' : format)
    // A format made for another variant (kql sentinel, arm: Sentinel's tables) compiles for it unless --variant says otherwise.
    const formatVariant = (t: TargetId): { variant?: string } => {
      const variant = template ? undefined : variantOf(t, formatOf(t))
      return variant ? { variant } : {}
    }
    const optionsOf: Partial<Record<TargetId, TargetOptions>> = {}
    for (const t of targets) optionsOf[t] = targetOptions(config, t, { ...formatVariant(t), ...overrides(t) })
    const optionsFor = (t: TargetId): TargetOptions => must(optionsOf[t], 'options are made for every target compiled')
    const bar = progressBar({ rules: collected.files.length, label: 'compile', quiet })
    // --out: each file goes to the temporary folder beside DIR as its rule is compiled (a thread
    // writes it meanwhile); DIR is replaced at the end only if the whole run is clean.
    const output = out ? new StreamedOutput(out, COMPILE_OUTPUT) : undefined
    // Everything from here on runs inside `finish`, so that a crash still removes the temporary folder.
    const finish = async (): Promise<number> => {
      let stems: string[] = []
      // Each target's folder and extension, worked out once (formatOf lists the target's formats on disk).
      const folderOf = new Map(targets.map((t) => [t, `${t}/${template ? 'custom' : formatOf(t)}/`] as const))
      const extOf = new Map(targets.map((t) => [t, extensionOf(t, formatOf(t), template)] as const))
      /** The file a compiled artifact becomes under --out: its path inside DIR and its text. */
      const outputFile = (i: number, t: TargetId, text: string) => ({
        path: `${mustGet(folderOf, t)}${stems[i]}.${mustGet(extOf, t)}`,
        data: text.endsWith('\n') ? text : text + '\n',
      })
      const compiledFiles = await compileFiles(collected.files, {
        targets,
        formats: Object.fromEntries(targets.map((t) => [t, template ? { file: template } : { name: formatOf(t) }])),
        options: optionsOf,
        placeholders: config.placeholders,
        formatSettings: Object.fromEntries(targets.map((t) => [t, formatSettings(config, t)])),
        onItems: (items) => (stems = stemsFor(items)),
        onCompiled: (i, { results }) => {
          if (!output) return
          for (const t of targets) {
            const text = results[t]?.text
            if (text === undefined) continue
            const f = outputFile(i, t, text)
            output.add(f.path, f.data)
          }
        },
      })
      bar.update(collected.files.length)
      const rules = compiledFiles.rules
      const diagnostics: Diagnostic[] = [...cd, ...collected.diagnostics, ...compiledFiles.diagnostics]
      const printed: string[] = []
      const skipped: string[] = []
      const declared: string[] = []
      const declaredIn = new Map<string, Readonly<Record<string, string>>>()
      const refusalsDeclared = (file: string) => {
        if (!declaredIn.has(file)) declaredIn.set(file, declaredRefusals(file))
        return mustGet(declaredIn, file)
      }
      const jsonEntries: object[] = []
      const identity = (rule: { id?: string; title: string; file: string }, t: TargetId) => ({
        rule: rule.id ?? null,
        title: rule.title,
        file: portable(rule.file),
        target: t,
        ...(optionsFor(t).variant ? { variant: optionsFor(t).variant } : {}),
      })
      // What --out wrote and skipped, for DIR/compile-manifest.json (CI reads it, people read stderr).
      const manifest: { written: object[]; skipped: object[] } = { written: [], skipped: [] }
      const owners: OutputOwner[] = []
      for (const t of targets) {
        const fmt = formatOf(t)
        for (const [i, { rule, results }] of rules.entries()) {
          const result = entryOf(results, t)
          const refusal = result.text === undefined
          const why = result.diagnostics.find((d) => d.severity === 'error')
          // A refusal the rule's tests file declares (`refused:`) is expected: listed, not an error.
          const reason =
            refusal && why?.code.startsWith('target/')
              ? refusalsDeclared(rule.file)[refusalKey(t, optionsFor(t))]
              : undefined
          if (reason !== undefined && why) {
            declared.push(`${t}\t${portable(rule.file)}\t${why.code}`)
            jsonEntries.push({
              ...identity(rule, t),
              refused: { code: why.code, message: why.message, declared: reason },
            })
            diagnostics.push(
              ...result.diagnostics.filter((d) => !(d.code.startsWith('target/') && d.severity === 'error')),
            )
            continue
          }
          diagnostics.push(
            ...result.diagnostics.map((d) =>
              refusal && skip && d.code.startsWith('target/') ? { ...d, severity: 'warning' as const } : d,
            ),
          )
          if (refusal) {
            if (why)
              jsonEntries.push({
                ...identity(rule, t),
                refused: { code: why.code, message: why.message, declared: null },
              })
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
          const text = must(result.text, 'a result that is not refused has its text')
          if (out) {
            // Written already (onCompiled above); here it is listed.
            const { path, data } = outputFile(i, t, text)
            owners.push({ path, file: rule.file, at: rule.at })
            manifest.written.push({
              target: t,
              format: template ? 'custom' : fmt,
              rule: rule.id ?? null,
              file: portable(rule.file),
              path,
              sha256: createHash('sha256').update(data).digest('hex'),
            })
          } else if (json) {
            jsonEntries.push({ ...identity(rule, t), query: text.replace(/\n$/, '') })
          } else {
            const style = noHeader ? undefined : commentStyleFor(extensionOf(t, fmt, template))
            const header = style
              ? queryHeader(style, [
                  ['rule', rule.id ?? '(no id)'],
                  ['title', rule.title],
                  ['file', portable(rule.file)],
                  ['target', optionsFor(t).variant ? `${t} (${optionsFor(t).variant})` : t],
                ])
              : ''
            printed.push(header + (text.endsWith('\n') ? text : text + '\n'))
          }
        }
      }
      bar.done()
      diagnostics.push(...outputCollisions(owners))
      // Two detections under one name would deploy as one (the later replaces the earlier): print
      // nothing rather than an artifact that silently drops a rule.
      const nameClash = diagnostics.some((d) => d.code === 'format/duplicate-name' || d.code === 'output/collision')
      if (nameClash && !out && (printed.length || json) && !args.switches.has('quiet'))
        process.stderr.write('rulesmith compile: nothing printed: two detections share one name\n')
      if (printed.length && !nameClash) process.stdout.write(printed.join('\n'))
      if (json && !nameClash) process.stdout.write(JSON.stringify(jsonEntries, null, 2) + '\n')
      diagnostics.push(...noRulesFound(args, paths, rules.length, diagnostics))
      if (out && output && diagnostics.some((d) => d.severity === 'error')) {
        await output.discard()
        if (!args.switches.has('quiet')) process.stderr.write(`rulesmith compile: nothing written to ${out}\n`)
      } else if (out && output) {
        const data = JSON.stringify({ tool: 'rulesmith', toolVersion: version(), ...manifest }, null, 2) + '\n'
        try {
          const left = await output.commit([{ path: COMPILE_OUTPUT.manifest, text: data }])
          if (left) diagnostics.push(leftBehindWarning(left, out))
        } catch (e) {
          if (e instanceof OutDirError) throw new UsageError(e.message)
          const io = ioFailure(e)
          if (!io) throw e
          diagnostics.push(error(io.code, outputNotWritten(io.reason), undefined, out))
        }
      }
      if (skipped.length && !quiet)
        process.stderr.write(
          `skipped (unsupported), target\tfile\treason:\n${skipped.map((s) => '  ' + s).join('\n')}\n`,
        )
      if (declared.length && !quiet)
        process.stderr.write(
          `refused as declared in tests files, target\tfile\treason:\n${declared.map((s) => '  ' + s).join('\n')}\n`,
        )
      const summary = { files: collected.files.length, rules: rules.length, declaredRefusals: declared.length }
      if (diagnostics.length || declared.length) printDiagnostics(diagnostics, 'text', summary, quiet)
      return exitCode(diagnostics)
    }
    try {
      return await finish()
    } catch (e) {
      await output?.discard()
      throw e
    }
  },
}

/** A rule's path relative to the working folder, with `/`: the same on every machine. */
const portable = (file: string): string => {
  // Asked once a rule and target (header, manifest, refusals): worked out once a file.
  let p = portables.get(file)
  if (p === undefined) {
    p = relative(process.cwd(), resolve(file)).split(sep).join('/')
    portables.set(file, p)
  }
  return p
}
const portables = new Map<string, string>()

/** `kql: defender, sentinel` for the targets that have variants. */
const variantSummary = (): string =>
  TARGET_IDS.filter((t) => variantsOf(t).length)
    .map((t) => `${t}: ${variantsOf(t).join(', ')}`)
    .join('; ')
