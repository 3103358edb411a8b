#!/usr/bin/env node
// `npm test`: every check the project gates on, in three stages, each stopping the run when it fails.
//
//   1. static: prettier --check, the three tsc projects (the first emits dist/, which the CLI tests
//      and stage 3 run), and the lint step when package.json has one. They read files only and
//      don't depend on each other, so they run at once: on 2 cores that is the time of prettier
//      alone instead of the sum.
//   2. vitest run (its global setup skips its own build: stage 1 made dist/).
//   3. the CLI on the shipped rule pack, as a user runs it: validate, and test on every target and
//      on both KQL families, two at a time.
//
// Each step's output is printed whole when it ends, so parallel steps never interleave. Extra
// arguments go to vitest (`npm test -- test/kql`).
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {}

/** Run one step with its output captured; resolves to its exit code. */
function run(label, command, args, options = {}) {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: options.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    })
    const chunks = []
    child.stdout?.on('data', (c) => chunks.push(c))
    child.stderr?.on('data', (c) => chunks.push(c))
    child.on('error', (e) => chunks.push(Buffer.from(`${e.message}\n`)))
    child.on('close', (code, signal) => {
      const status = code ?? (signal ? 128 : 1)
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      process.stdout.write(`\n> ${label}  (${status === 0 ? 'ok' : `failed, exit ${status}`}, ${seconds} s)\n`)
      if (chunks.length) process.stdout.write(Buffer.concat(chunks))
      resolve(status)
    })
  })
}

/** Steps in sequence; the first failure's code, else 0. */
async function sequence(steps) {
  for (const step of steps) {
    const code = await step()
    if (code !== 0) return code
  }
  return 0
}

/** Steps `width` at a time; every step runs, the result is the first failure's code, else 0. */
async function pool(steps, width) {
  const codes = []
  let next = 0
  const worker = async () => {
    while (next < steps.length) {
      const i = next++
      codes[i] = await steps[i]()
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, steps.length) }, worker))
  return codes.find((c) => c !== 0) ?? 0
}

const node = process.execPath
const tsc = (project) => () =>
  run(`tsc -p ${project}`, node, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project])
const cli =
  (...args) =>
  () =>
    run(`rulesmith ${args.join(' ')}`, node, [join(root, 'bin/rulesmith.js'), ...args])

/** After a failed lint step: where its findings are and what the usual fix is. */
const lintHint = (code) => {
  if (code !== 0)
    process.stdout.write(
      'npm test: lint failed (findings above, file:line:col). House rules: docs/architecture.md; a guard ' +
        'instead of `x!` or a cast: src/guards.ts (first, itemAt, must, mustGet, isMap, isOneOf). Re-run: npm run lint\n',
    )
  return code
}

const staticChecks = [
  () => run('prettier --check .', bin('prettier'), ['--check', '.']),
  () => sequence([tsc('tsconfig.json'), tsc('tsconfig.test.json'), tsc('src/playground/tsconfig.json')]),
  ...(scripts.lint ? [() => run('npm run lint', 'npm', ['run', '--silent', 'lint']).then(lintHint)] : []),
]

const code = await sequence([
  () => pool(staticChecks, staticChecks.length),
  () =>
    run('vitest run', bin('vitest'), ['run', ...process.argv.slice(2)], {
      inherit: true,
      env: { RULESMITH_TEST_BUILT: '1' },
    }),
  () =>
    pool(
      [
        cli('validate', 'rules/'),
        cli('test', 'rules/'),
        cli('test', '--target', 'kql', '--variant', 'sentinel', 'rules/'),
        cli('test', '--target', 'kql', '--variant', 'defender,sentinel', 'rules/'),
        cli('test', '--target', 'kql', '--variant', 'asim', 'rules/'),
        cli('test', '--target', 'spl', '--variant', 'cim', 'rules/'),
      ],
      2,
    ),
])
process.stdout.write(code === 0 ? '\nnpm test: every step passed\n' : `\nnpm test: failed (exit ${code})\n`)
process.exitCode = code
