/**
 * `rulesmith init [DIR]`: a detection repository that works on its first run — config, pre-commit
 * hook, GitHub Actions workflow (validate with SARIF upload and annotations, sample-event tests, a
 * release bundle on version tags) and one example rule with its sample events. It never
 * overwrites: if any file it would write exists, it writes nothing and names them.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { version } from '../version.js'
import { one, parseArgs, UsageError } from './args.js'
import type { Command } from './main.js'

/** Where pre-commit fetches the hook from, unless --hook-repo says otherwise. */
export const HOOK_REPO = 'https://github.com/rulesmith/rulesmith'

const EXAMPLE_RULE = 'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows.yml'
const EXAMPLE_TESTS = 'rules/windows/process_creation/proc_creation_win_vssadmin_delete_shadows.tests.yml'
const WORKFLOW = '.github/workflows/rulesmith.yml'

/** A YAML scalar in double quotes (JSON's escapes are YAML's), so a URL or rev cannot break the file. */
const quoted = (s: string): string => JSON.stringify(s)

export function initFiles(options: { hookRepo: string; hookRev: string; install: string }): Record<string, string> {
  return {
    '.rulesmith.yml': `# rulesmith configuration (https://github.com/rulesmith/rulesmith#config-file)
targets: [spl, kql, eql, osquery] # what validate compiles each rule for, and bundle builds
unsupported: error # a target refusing a rule: error | warning | ignore
# (a refusal the rule's tests file declares under refused: is expected and never an error)
# variants:
#   kql: sentinel # Sentinel tables instead of Defender XDR
# pipelines:
#   kql: pipelines/kql.yml # your log sources and field names
`,
    '.pre-commit-config.yaml': `# pre-commit (https://pre-commit.com): 'pre-commit install' once, then every commit that changes a
# rule is validated. rev is a rulesmith release tag (v<version>) or a commit id.
repos:
  - repo: ${quoted(options.hookRepo)}
    rev: ${quoted(options.hookRev)}
    hooks:
      - id: rulesmith-validate
        # pre-commit passes only the changed files; --all-from compares their ids and titles
        # with every other rule of the repository.
        args: [--all-from, rules/]
        files: ^rules/.*\\.ya?ml$
`,
    [WORKFLOW]: `# Validate every push and pull request (annotations on the diff, SARIF in code scanning), run
# the rules' sample events, and build the release bundle when a version tag (v1.2.3) is pushed.
name: rulesmith
on:
  push:
    branches: [main]
    tags: ['v*']
  pull_request:
permissions:
  contents: read
jobs:
  validate:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm install --global ${options.install}
      - run: rulesmith validate --format github rules/
      - run: rulesmith validate --format sarif rules/ > rulesmith.sarif || true
        if: always()
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
        with:
          sarif_file: rulesmith.sarif
          category: rulesmith
      - run: rulesmith test rules/
  bundle:
    if: startsWith(github.ref, 'refs/tags/v')
    needs: validate
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm install --global ${options.install}
      - run: rulesmith bundle --out release/ --name detections-\${{ github.ref_name }} rules/
      - uses: actions/upload-artifact@v4
        with:
          name: detections-\${{ github.ref_name }}
          path: release/
`,
    [EXAMPLE_RULE]: `title: Volume Shadow Copies Deleted Via Vssadmin
# Every rule needs an id of its own: generate one for each new rule (uuidgen).
id: 3f6a1c2e-8d4b-4e7a-9c15-2b7d0e4f9a61
status: experimental
description: Detects vssadmin.exe deleting volume shadow copies, as ransomware does before encrypting so that files cannot be restored.
references:
  - https://attack.mitre.org/techniques/T1490/
author: your team
date: 2026-12-03
tags:
  - attack.impact
  - attack.t1490
logsource:
  category: process_creation
  product: windows
detection:
  selection_img:
    Image|endswith: '\\vssadmin.exe'
  selection_cli:
    CommandLine|contains|all:
      - 'delete'
      - 'shadows'
  condition: selection_img and selection_cli
falsepositives:
  - Backup software pruning its own snapshots
level: high
`,
    [EXAMPLE_TESTS]: `# Sample events for proc_creation_win_vssadmin_delete_shadows.yml: 'rulesmith test rules/' runs
# them through Sigma's semantics and through every target's query.
rule: 3f6a1c2e-8d4b-4e7a-9c15-2b7d0e4f9a61
match:
  - name: all shadow copies deleted quietly
    event:
      Image: C:\\Windows\\System32\\vssadmin.exe
      CommandLine: vssadmin.exe delete shadows /all /quiet
  - name: upper case (Sigma matches case-insensitively)
    event:
      Image: C:\\WINDOWS\\SYSTEM32\\VSSADMIN.EXE
      CommandLine: 'VSSADMIN DELETE SHADOWS /FOR=C:'
nomatch:
  - name: listing shadow copies is not deleting them
    event:
      Image: C:\\Windows\\System32\\vssadmin.exe
      CommandLine: vssadmin list shadows
  - name: another program with the same words
    event:
      Image: C:\\Tools\\cleanup.exe
      CommandLine: cleanup.exe delete shadows
# refused:            # targets expected to refuse the rule, with the reason, e.g.
#   osquery: "why"
`,
  }
}

export const command: Command = {
  summary: 'scaffold a detection repository',
  help: `rulesmith init [DIR] [options]

Create a detection repository in DIR (default: the current folder):
  .rulesmith.yml                     targets and refusal policy
  .pre-commit-config.yaml            the rulesmith-validate hook ('pre-commit install' to use it)
  ${WORKFLOW}     validate (annotations + SARIF upload), sample-event tests;
                                     a release bundle on version tags (v*)
  ${EXAMPLE_RULE}
  ${EXAMPLE_TESTS}
                                     an example rule and its sample events
Everything it writes passes 'rulesmith validate', 'test', 'compile' and 'bundle' as it is.
It never overwrites: if any of these files exists, nothing is written.

Options:
  --hook-repo URL    where pre-commit fetches rulesmith (default ${HOOK_REPO});
                     a path or file:// URL of a clone works too
  --hook-rev REV     the release tag or commit id to pin (default v${version()})
  --install SPEC     what the workflow installs with 'npm install --global'
                     (default rulesmith@${version()})

Examples:
  rulesmith init my-detections
  rulesmith init --hook-repo ~/src/rulesmith --hook-rev v${version()} .

Exit codes: 0 written, 2 usage error or a file already exists (nothing written).
`,
  async run(argv) {
    const args = parseArgs(argv, { values: ['hook-repo', 'hook-rev', 'install'] })
    if (args.positionals.length > 1) throw new UsageError('give one folder (or none for the current one)')
    const dir = args.positionals[0] ?? '.'
    const files = initFiles({
      hookRepo: one(args, 'hook-repo') ?? HOOK_REPO,
      hookRev: one(args, 'hook-rev') ?? `v${version()}`,
      install: one(args, 'install') ?? `rulesmith@${version()}`,
    })
    const existing = Object.keys(files).filter((f) => existsSync(join(dir, f)))
    if (existing.length) {
      process.stderr.write(
        `rulesmith init: nothing written; these files exist in ${dir} and are never overwritten:\n${existing.map((f) => `  ${f}\n`).join('')}`,
      )
      return 2
    }
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text, { flag: 'wx' })
    }
    const cd: [string, string][] = dir === '.' ? [] : [[`cd ${dir}`, '']]
    const steps: [string, string][] = [
      ...cd,
      ['git init && pre-commit install', "the hook checks each commit's rules"],
      ['rulesmith validate rules/', 'schema, semantics, a compile for every target'],
      ['rulesmith test rules/', "the sample events, through every target's query"],
      ['rulesmith compile --target kql rules/', 'the queries'],
    ]
    const width = Math.max(...steps.map(([c]) => c.length)) + 2
    process.stdout.write(
      Object.keys(files)
        .map((f) => `created ${join(dir, f)}\n`)
        .join('') +
        '\nNext:\n' +
        steps.map(([c, why]) => `  ${why ? c.padEnd(width) + why : c}\n`).join(''),
    )
    return 0
  },
}
