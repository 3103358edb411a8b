#!/usr/bin/env node
// Corpus snapshot: every rule under the given paths compiled for every target and variant, and
// rendered with every shipped format, written to one text file (or stdout). Two snapshots, taken
// before and after a refactoring, are compared with `diff`: emitted text must not change unless a
// bug was fixed on purpose. Needs a build first:
//   npm run build && node bench/corpus-snapshot.mjs --out /tmp/after.txt ../shared/corpus/sigmahq/rules*
// Each entry: `### <file>#<n> <target>[/<variant>]`, then the diagnostic codes (`error x/y`,
// `warning x/y`, sorted), then the query, then `--- <format>` and each format's output.
import { writeFileSync } from 'node:fs'

const argv = process.argv.slice(2)
const outAt = argv.indexOf('--out')
const out = outAt >= 0 ? argv.splice(outAt, 2)[1] : undefined
if (argv.length === 0) {
  console.error('usage: node bench/corpus-snapshot.mjs [--out FILE] PATHS…')
  process.exit(2)
}

const { loadPaths } = await import('../dist/src/rule/load.js')
const { compile } = await import('../dist/src/api.js')
const { formatsOf, renderFormat, ruleVars } = await import('../dist/src/formats/render.js')

/** Every target with each of its variants; KQL's two schema families are separate targets here. */
const TARGETS = [
  ['spl', undefined],
  ['kql', 'defender'],
  ['kql', 'sentinel'],
  ['eql', undefined],
  ['osquery', undefined],
]

const loaded = loadPaths(argv)
const rules = [...loaded.rules].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
const lines = []
const perFile = new Map()
const counts = {}
for (const rule of rules) {
  const n = perFile.get(rule.file) ?? 0
  perFile.set(rule.file, n + 1)
  for (const [target, variant] of TARGETS) {
    const id = variant ? `${target}/${variant}` : target
    lines.push(`### ${rule.file}#${n} ${id}`)
    const compiled = await compile(rule, target, variant ? { variant } : {})
    const codes = compiled.diagnostics.map((d) => `${d.severity} ${d.code}`).sort()
    for (const c of codes) lines.push(c)
    const slot = (counts[id] ??= { compiled: 0, refused: 0 })
    if (compiled.query === undefined) {
      slot.refused++
      continue
    }
    slot.compiled++
    lines.push(compiled.query)
    for (const format of formatsOf(target)) {
      lines.push(`--- ${format}`)
      try {
        lines.push(
          await renderFormat(
            target,
            { name: format },
            { rule: ruleVars(rule), query: compiled.query, target, context: compiled.context ?? {} },
          ),
        )
      } catch (e) {
        lines.push(`FORMAT ERROR ${e?.message ?? e}`)
      }
    }
  }
}
const text = lines.join('\n') + '\n'
if (out) writeFileSync(out, text)
else process.stdout.write(text)
console.error(`${rules.length} rules; ${JSON.stringify(counts)}`)
