// eql corpus equivalence: compile every rule under PATHS for eql and check, on events built from
// each rule's own values (as written, case-flipped, padded, one field missing or null), that the
// verifier agrees with the reference evaluator. Needs a build: npx tsc -p tsconfig.json && node
// bench/eql-corpus-equivalence.mjs ../shared/corpus/sigmahq/rules*
const { loadPaths } = await import('../dist/src/rule/load.js')
const { backend } = await import('../dist/src/backends/eql.js')
const { verifier } = await import('../dist/src/verify/eql.js')
const { checkEquivalence } = await import('../dist/src/proof/equivalence.js')
const loaded = loadPaths(process.argv.slice(2))
function candidates(node, out = new Map()) {
  const add = (f, v) => {
    if (!out.has(f)) out.set(f, [])
    out.get(f).push(v)
  }
  switch (node.kind) {
    case 'And':
    case 'Or':
      node.items.forEach((n) => candidates(n, out))
      break
    case 'Not':
      candidates(node.item, out)
      break
    case 'Match': {
      const t = node.pattern.map((s) => (s.kind === 'lit' ? s.text : s.kind === 'one' ? 'q' : '')).join('')
      add(node.field, t)
      add(node.field, 'Z' + t + 'Z')
      break
    }
    case 'Regex':
      add(node.field, node.source.replace(/[\\^$.*+?()[\]{}|]/g, ''))
      break
    case 'Cidr':
      add(node.field, node.cidr.split('/')[0])
      break
    case 'Compare':
      add(node.field, node.value)
      add(node.field, node.value + 1)
      add(node.field, String(node.value - 1))
      break
    case 'Exists':
    case 'Null':
      add(node.field, '')
      break
  }
  return out
}
const flip = (v) =>
  typeof v === 'string' ? [...v].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('') : v
let rules = 0,
  events = 0,
  mism = 0,
  errs = 0
const bad = []
for (const rule of loaded.rules) {
  const c = backend.compile(rule)
  if (c.query === undefined) continue
  const cand = candidates(rule.detection)
  const all = {}
  for (const [f, vs] of cand) all[f] = vs.filter((v) => typeof v === 'string').join(' ') || vs[0]
  const evs = [{}, all, Object.fromEntries(Object.entries(all).map(([k, v]) => [k, flip(v)]))]
  for (const [f, vs] of cand)
    for (const v of vs) {
      evs.push({ ...all, [f]: v })
      evs.push({ ...all, [f]: flip(v) })
      evs.push({ [f]: v })
    }
  for (const [f] of cand) {
    const e = { ...all }
    delete e[f]
    evs.push(e)
    evs.push({ ...all, [f]: null })
  }
  const r = await checkEquivalence(rule, evs, backend, verifier)
  rules++
  events += evs.length
  const e = r.diagnostics.filter((d) => d.code !== 'verify/mismatch' && d.severity === 'error')
  if (e.length) {
    errs++
    bad.push([rule.file, e[0].message.slice(0, 300)])
  }
  if (r.mismatches.length) {
    mism += r.mismatches.length
    bad.push([
      rule.file,
      r.query.slice(0, 300),
      JSON.stringify(evs[r.mismatches[0]]).slice(0, 300),
      r.expected[r.mismatches[0]],
    ])
  }
}
console.log(`corpus equivalence: ${rules} rules, ${events} events, ${mism} mismatches, ${errs} verifier errors`)
for (const b of bad.slice(0, 15)) console.log(b.join('\n   '))
