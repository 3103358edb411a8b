import { existsSync, readFileSync } from 'node:fs'
import { buildBundle, DEFAULT_BUNDLE_NAME } from '../bundle/build.js'
import { sha256 } from '../bundle/hash.js'
import { parseLock, type Lock } from '../bundle/lock.js'
import {
  checkOutDir,
  ioFailure,
  leftBehindWarning,
  OutDirError,
  outputNotWritten,
  writeAtomically,
  writeFileAtomically,
  writeFsFromEnv,
  BUNDLE_OUTPUT,
} from '../bundle/write.js'
import { error, type Diagnostic } from '../diagnostics.js'
import { outOverlapsInputs } from '../formats/output-files.js'
import { one, parseArgs, UsageError } from './args.js'
import { configFrom, exitCode, printDiagnostics, requirePaths } from './common.js'
import type { Command } from './main.js'
import { progressBar } from './progress.js'
import { red } from './style.js'
import { useColour } from './report.js'
import { must } from '../guards.js'

export const command: Command = {
  summary: 'build a release bundle',
  help: `rulesmith bundle --out DIR [options] PATHS…

Build a reproducible release bundle: every rule compiled for every target of the config and
rendered in every format the target ships ('rulesmith targets' lists them), then
  DIR/<target>/<format>/<rule file name>.<ext>   the artifacts
  DIR/manifest.json      tool version; per rule: id, title, version, sha256 of the source and of
                         each artifact, targets skipped and why; the changelog
  DIR/rules.lock.json    per rule id: content hash and version (a changed rule gets version + 1)
  DIR/CHANGELOG.md       rules added, changed and removed since the previous lock
  DIR/NAME.tar.gz        all of the above under NAME/, byte-identical when rebuilt from the same input
  DIR/SHA256SUMS         sha256 of every file ('cd DIR && sha256sum -c SHA256SUMS')

The bundle is written to a temporary folder and renamed into place: if any rule fails (invalid,
refused by a target without --skip-unsupported, a format error) or the disk fails (full,
read-only, no permission: an io/ error, exit 2), nothing is written, DIR stays as it was, and no
temporary folder is left. A previous bundle in DIR is replaced whole; a non-empty folder that is
not a bundle is refused; a symbolic link to a folder is followed (the folder is replaced, the link
stays). DIR may not be inside a rule path nor hold one.

Options:
  --out DIR            the bundle folder (required)
  --lock FILE          the previous release's rules.lock.json: versions and the changelog are
                       relative to it (a missing FILE means a first release, every rule at 1)
  --update-lock        after a successful bundle, write the new lock back to --lock FILE
  --name NAME          archive name (default ${DEFAULT_BUNDLE_NAME}): DIR/NAME.tar.gz holding NAME/
  --skip-unsupported   a rule a target cannot express is skipped for that target and listed in
                       the manifest, instead of failing the bundle. A refusal the rule's tests
                       file declares under refused: is skipped without it (manifest: declared)
  --allow-empty        no rules under PATHS builds an empty bundle instead of failing
  --config FILE        config file (default .rulesmith.yml if present): targets, pipelines,
                       variants, placeholders
  --quiet              print errors only

Paths in the manifest are relative to the working folder: run it from the repository root.

Examples:
  rulesmith bundle --out dist/release rules/
  rulesmith bundle --lock rules.lock.json --update-lock --out dist/release rules/
  rulesmith bundle --skip-unsupported --name acme-detections --out dist/release rules/

Exit codes: 0 bundle written, 1 a rule failed (nothing written), 2 usage error, unreadable
path or lock, or a non-bundle DIR.
`,
  async run(argv) {
    const args = parseArgs(argv, {
      values: ['out', 'lock', 'name', 'config'],
      switches: ['skip-unsupported', 'update-lock', 'quiet', 'allow-empty'],
    })
    const out = one(args, 'out')
    if (!out) throw new UsageError('--out DIR is required')
    const lockFile = one(args, 'lock')
    if (args.switches.has('update-lock') && !lockFile) throw new UsageError('--update-lock needs --lock FILE')
    const name = one(args, 'name') ?? DEFAULT_BUNDLE_NAME
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      throw new UsageError(`--name must be letters, digits, '.', '_' or '-', not '${name}'`)
    const quiet = args.switches.has('quiet')
    const paths = requirePaths(args)
    // A bundle inside a rule folder would be read back as rules by the next build (its .yml formats).
    const overlap = outOverlapsInputs(out, paths)
    if (overlap) throw new UsageError(overlap)
    try {
      checkOutDir(out)
    } catch (e) {
      if (e instanceof OutDirError) throw new UsageError(e.message)
      throw e
    }
    const { config, diagnostics: cd } = configFrom(args)
    if (cd.some((d) => d.severity === 'error')) {
      printDiagnostics(cd, 'text', { files: 0, rules: 0 }, quiet)
      return exitCode(cd)
    }
    let lock: Lock | undefined
    let lockSha256: string | undefined
    if (lockFile && existsSync(lockFile)) {
      const text = readFileSync(lockFile, 'utf8')
      const parsed = parseLock(text, lockFile)
      if (!parsed.lock) {
        printDiagnostics(parsed.diagnostics, 'text', { files: 0, rules: 0 }, quiet)
        return 2
      }
      lock = parsed.lock
      lockSha256 = sha256(text)
    } else if (lockFile && !quiet) {
      process.stderr.write(
        `rulesmith bundle: '${lockFile}' does not exist yet: a first release, every rule at version 1\n`,
      )
    }

    let bar: ReturnType<typeof progressBar> | undefined
    const result = await buildBundle(paths, {
      config,
      ...(lock ? { lock } : {}),
      ...(lockSha256 ? { lockSha256 } : {}),
      skipUnsupported: args.switches.has('skip-unsupported'),
      allowEmpty: args.switches.has('allow-empty'),
      name,
      onProgress: (done, total) => {
        bar ??= progressBar({ rules: total, label: 'bundle', quiet })
        bar.update(done)
      },
    })
    bar?.done()
    const diagnostics: Diagnostic[] = [...cd, ...result.diagnostics]
    const declaredRefusals = (result.bundle?.manifest.rules ?? []).reduce(
      (n, r) => n + r.skipped.filter((s) => s.declared !== undefined).length,
      0,
    )
    const summary = { files: result.files.length, rules: result.rules, declaredRefusals }
    if (!result.bundle) {
      printDiagnostics(diagnostics, 'text', summary, quiet)
      const colour = useColour(process.stderr)
      const list = result.failing.map(
        (f) => `  ${f.file} (${f.diagnostics.length} error${f.diagnostics.length === 1 ? '' : 's'})`,
      )
      const n = result.failing.length
      process.stderr.write(
        red(
          colour,
          `rulesmith bundle: nothing written to ${out}${n ? `; ${n} failing rule file${n === 1 ? '' : 's'}:` : ''}`,
        ) +
          '\n' +
          list.map((l) => l + '\n').join(''),
      )
      const code = exitCode(diagnostics)
      return code === 0 ? 1 : code
    }
    const fs = writeFsFromEnv()
    try {
      const left = writeAtomically(out, result.bundle.files, BUNDLE_OUTPUT, fs)
      if (left) diagnostics.push(leftBehindWarning(left, out))
    } catch (e) {
      if (e instanceof OutDirError) throw new UsageError(e.message)
      const io = ioFailure(e)
      if (!io) throw e
      printDiagnostics(
        [...diagnostics, error(io.code, outputNotWritten(io.reason), undefined, out)],
        'text',
        summary,
        quiet,
      )
      return 2
    }
    if (lockFile && args.switches.has('update-lock')) {
      try {
        writeFileAtomically(lockFile, JSON.stringify(result.bundle.lock, null, 2) + '\n', fs)
      } catch (e) {
        const io = ioFailure(e)
        if (!io) throw e
        const message = `cannot write the lock: ${io.reason}; the bundle in ${out} was written, the lock file is as it was`
        printDiagnostics([...diagnostics, error(io.code, message, undefined, lockFile)], 'text', summary, quiet)
        return 2
      }
    }
    if (diagnostics.length) printDiagnostics(diagnostics, 'text', summary, quiet)
    if (!quiet) {
      const { manifest } = result.bundle
      const artifacts = manifest.rules.reduce((n, r) => n + r.artifacts.length, 0)
      const skipped = manifest.rules.flatMap((r) =>
        r.skipped.map((s) => `  ${r.file} (${s.target}): ${s.code}${s.declared !== undefined ? ' (declared)' : ''}`),
      )
      const declared = manifest.rules.reduce((n, r) => n + r.skipped.filter((s) => s.declared !== undefined).length, 0)
      const archivePath = result.bundle.archive
      const archive = must(
        result.bundle.files.find((f) => f.path === archivePath),
        'the bundle lists its archive',
      )
      const c = manifest.changelog
      process.stderr.write(
        [
          `bundle ${out}: ${manifest.rules.length} rules, ${artifacts} artifacts for ${manifest.targets.join(', ')}`,
          `  ${result.bundle.archive} sha256 ${sha256(archive.data)}`,
          `  changes since the lock: ${c.added.length} added, ${c.changed.length} changed, ${c.removed.length} removed, ${c.unchanged} unchanged`,
          ...(skipped.length
            ? [
                `skipped, file (target): reason (${declared} of ${skipped.length} declared in tests files under refused:):`,
                ...skipped,
              ]
            : []),
          '',
        ].join('\n'),
      )
    }
    return 0
  },
}
