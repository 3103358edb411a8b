#!/usr/bin/env node
// Differential run over a rule corpus: for every rule and target, compile it, generate
// adversarial events from its AST and log source (src/proof/adversarial.ts: the rule's own log
// source and its neighbours), and compare the reference evaluator with the target's verifier on
// the emitted text. Prints mismatches (must be 0).
// Also counts, per target, the rules with a regex and how many of them got events on both sides of
// the rule (selected and not selected).
//   npm run build && node bench/equivalence.mjs [--target T|all] [--variant V] [--events N] [--limit N] PATHS…
// --events defaults to RULESMITH_ADVERSARIAL_EVENTS (the knob test/conformance/rule-pack.test.ts
// also reads for a bigger run), else 60.
const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i < 0 ? fallback : argv.splice(i, 2)[1]
}
const target = opt('target', 'all')
const perRule = Number(opt('events', process.env.RULESMITH_ADVERSARIAL_EVENTS || '60'))
const limit = Number(opt('limit', '0'))
const showMax = Number(opt('show', '10'))
const variant = opt('variant', undefined)
// --other-records: also each event as the other records of its log source (a Windows process
// creation as Security 4688; src/proof/adversarial.ts otherRecords). On by default for spl, whose
// queries search both; `--other-records no` turns it off, `yes` turns it on for every target.
const otherRecordsOpt = opt('other-records', 'spl')
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
    skipped = 0,
    regexRules = 0,
    regexBothSides = 0
  const mismatchedRules = new Set()
  const shown = []
  const hasRegex = (n) =>
    n.kind === 'Regex' || ('items' in n && n.items.some(hasRegex)) || ('item' in n && hasRegex(n.item))
  for (const rule of rules) {
    const c = backend.compile(rule, options)
    if (c.query === undefined) continue
    compiled++
    const otherRecords = otherRecordsOpt === 'yes' || otherRecordsOpt === t
    const evs = withOrigin(
      adversarialEvents(rule.detection, perRule, 1489, rule.logsource, [], { otherRecords }),
      rule.logsource,
    )
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
    const selected = expected.filter((x, i) => x && !skip.has(i)).length
    matched += selected
    if (hasRegex(rule.detection)) {
      regexRules++
      if (selected > 0 && selected < evs.length - skip.size) regexBothSides++
    }
    evs.forEach((e, i) => {
      if (!skip.has(i) && v.matches[i] !== expected[i]) {
        mismatches++
        mismatchedRules.add(rule.file)
        if (shown.length < showMax)
          shown.push(
            `MISMATCH ${rule.file}: rule=${expected[i]} query=${v.matches[i]} event=${JSON.stringify(e)}\n    ${c.query.replace(/\n/g, '\n    ')}`,
          )
      }
    })
  }
  failed += mismatches + errors
  console.log(
    `${t}: ${compiled} rules compiled, ${events} events compared (${(events / Math.max(compiled, 1)).toFixed(1)} per rule; ${matched} selected by the rule; ${skipped} not representable in the target's schema, skipped), mismatches ${mismatches} in ${mismatchedRules.size} rules, verifier errors ${errors}; rules with a regex: ${regexRules}, with events on both sides: ${regexBothSides}`,
  )
  for (const s of shown) console.log('  ' + s)
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
process.exitCode = failed ? 1 : 0
