#!/usr/bin/env node
// Differential run over a rule corpus: for every rule and target, compile it, generate
// adversarial events from its AST and log source (src/proof/adversarial.ts: the rule's own log
// source and its neighbours), and compare the reference evaluator with the target's verifier on
// the emitted text. Prints mismatches (must be 0).
//   npm run build && node bench/equivalence.mjs [--target T|all] [--variant V] [--events N] [--limit N] PATHS…
const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i < 0 ? fallback : argv.splice(i, 2)[1]
}
const target = opt('target', 'all')
const perRule = Number(opt('events', '60'))
const limit = Number(opt('limit', '0'))
const showMax = Number(opt('show', '10'))
const variant = opt('variant', undefined)
const options = variant ? { variant } : {}
const { loadPaths } = await import('../dist/src/rule/load.js')
const { loadBackend, TARGET_IDS } = await import('../dist/src/backends/index.js')
const { loadVerifier } = await import('../dist/src/verify/index.js')
const { withOrigin } = await import('../dist/src/origin.js')
const { evaluateRule } = await import('../dist/src/evaluate/evaluate.js')
const { adversarialEvents } = await import('../dist/src/proof/adversarial.js')

const t0 = performance.now()
let { rules } = loadPaths(argv)
if (limit) rules = rules.slice(0, limit)
const targets = target === 'all' ? TARGET_IDS : [target]
let failed = 0
for (const t of targets) {
  const backend = await loadBackend(t)
  const verifier = await loadVerifier(t)
  let compiled = 0,
    events = 0,
    mismatches = 0,
    errors = 0,
    matched = 0,
    skipped = 0
  const shown = []
  for (const rule of rules) {
    const c = backend.compile(rule, options)
    if (c.query === undefined) continue
    compiled++
    const evs = withOrigin(adversarialEvents(rule.detection, perRule, 1489, rule.logsource), rule.logsource)
    const expected = evs.map((e) => evaluateRule(rule, e))
    const v = await verifier.verify(c.query, evs, options)
    if (!v.matches) {
      errors++
      if (shown.length < showMax)
        shown.push(`VERIFY ERROR ${rule.file}: ${v.diagnostics.map((d) => d.message).join('; ')}`)
      continue
    }
    const skip = new Set(v.unrepresentable ?? [])
    skipped += skip.size
    events += evs.length - skip.size
    matched += expected.filter((x, i) => x && !skip.has(i)).length
    evs.forEach((e, i) => {
      if (!skip.has(i) && v.matches[i] !== expected[i]) {
        mismatches++
        if (shown.length < showMax)
          shown.push(
            `MISMATCH ${rule.file}: rule=${expected[i]} query=${v.matches[i]} event=${JSON.stringify(e)}\n    ${c.query.replace(/\n/g, '\n    ')}`,
          )
      }
    })
  }
  failed += mismatches + errors
  console.log(
    `${t}: ${compiled} rules compiled, ${events} events compared (${matched} selected by the rule; ${skipped} not representable in the target's schema, skipped), mismatches ${mismatches}, verifier errors ${errors}`,
  )
  for (const s of shown) console.log('  ' + s)
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
process.exitCode = failed ? 1 : 0
