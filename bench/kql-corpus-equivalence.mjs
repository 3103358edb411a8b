#!/usr/bin/env node
// Equivalence over a real rule corpus: for every rule the kql backend compiles, events are built
// from the rule's own values (each value, its case flips, with text around it, every field filled
// at once) and the reference evaluator is compared with the kql verifier on them.
// Needs a build first:
//   npx tsc -p tsconfig.json && node bench/kql-corpus-equivalence.mjs [--variant V] ../shared/corpus/sigmahq/rules*
import { performance } from 'node:perf_hooks'

const argv = process.argv.slice(2)
let variant = 'defender'
const vi = argv.indexOf('--variant')
if (vi >= 0) {
  variant = argv[vi + 1]
  argv.splice(vi, 2)
}
if (argv.length === 0) {
  console.error('usage: node bench/kql-corpus-equivalence.mjs [--variant V] PATHS…')
  process.exit(2)
}
const { loadPaths } = await import('../dist/src/rule/load.js')
const { backend } = await import('../dist/src/backends/kql.js')
const { verifier } = await import('../dist/src/verify/kql.js')
const { checkEquivalence } = await import('../dist/src/proof/equivalence.js')
const { kqlEnv, resolveLogsource, resolveField } = await import('../dist/src/backends/kql-env.js')

/** A value the pattern accepts: `*` → nothing, `?` → "Z". */
const sample = (pattern) => pattern.map((s) => (s.kind === 'lit' ? s.text : s.kind === 'one' ? 'Z' : '')).join('')
const flip = (s) => [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')

function valuesByField(node, out = new Map()) {
  switch (node.kind) {
    case 'And':
    case 'Or':
      node.items.forEach((i) => valuesByField(i, out))
      break
    case 'Not':
      valuesByField(node.item, out)
      break
    case 'Match': {
      const v = sample(node.pattern)
      const list = out.get(node.field) ?? []
      list.push(v, flip(v), `x${v}x`, v.slice(1), v.slice(0, -1))
      out.set(node.field, list)
      break
    }
    case 'Compare':
    case 'Exists':
    case 'Null': {
      const list = out.get(node.field) ?? []
      if (node.kind === 'Compare') list.push(String(node.value), String(node.value + 1), String(node.value - 1))
      out.set(node.field, list)
      break
    }
    case 'Cidr': {
      const list = out.get(node.field) ?? []
      list.push(node.cidr.split('/')[0], '10.0.0.1', '::1')
      out.set(node.field, list)
      break
    }
    default:
      break
  }
  return out
}

const loaded = loadPaths(argv)
const env = kqlEnv({ variant }).env
const t0 = performance.now()
let rules = 0,
  events = 0,
  mismatches = 0,
  skipped = 0,
  selected = 0,
  rulesHit = 0
for (const rule of loaded.rules) {
  const c = backend.compile(rule, { variant })
  if (c.query === undefined) continue
  const ls = resolveLogsource(env, rule.logsource)
  const byField = valuesByField(rule.detection)
  const fields = [...byField.keys()]
  const numeric = new Set(
    fields.filter((f) => {
      const r = resolveField(env, ls, f)
      return r && typeof r !== 'string' && r.type !== 'string'
    }),
  )
  const candidates = fields.map((f) => {
    const vs = [...new Set(byField.get(f))]
    return numeric.has(f) ? vs.filter((v) => /^-?(0|[1-9]\d*)$/.test(v)).map(Number) : vs
  })
  const evs = [{}]
  const rounds = Math.max(1, ...candidates.map((c) => c.length))
  for (let i = 0; i < rounds; i++) {
    const all = {}
    fields.forEach((f, k) => {
      const vs = candidates[k]
      if (vs.length) {
        all[f] = vs[i % vs.length]
        evs.push({ [f]: vs[i % vs.length] })
      }
    })
    evs.push(all)
    // Every field but one, so each AND meets a missing operand.
    for (const f of fields) {
      const some = { ...all }
      delete some[f]
      evs.push(some)
    }
  }
  const eq = await checkEquivalence(rule, evs.slice(0, 400), backend, verifier, { variant })
  if (!eq.actual) {
    skipped++
    console.error(
      `skipped ${rule.file}: ${eq.diagnostics
        .map((d) => d.message)
        .join('; ')
        .slice(0, 300)}`,
    )
    continue
  }
  rules++
  events += eq.expected.length
  const hits = eq.expected.filter(Boolean).length
  selected += hits
  if (hits) rulesHit++
  mismatches += eq.mismatches.length
  for (const i of eq.mismatches.slice(0, 3))
    console.error(`MISMATCH ${rule.file} event ${JSON.stringify(evs[i])}\n${c.query}`)
}
console.log(
  `kql ${variant} corpus equivalence: ${rules} rules, ${events} (rule, event) pairs (${selected} selected by the rule, in ${rulesHit} rules), ${mismatches} mismatches, ${skipped} skipped, ${Math.round(performance.now() - t0)} ms`,
)
process.exit(mismatches ? 1 : 0)
