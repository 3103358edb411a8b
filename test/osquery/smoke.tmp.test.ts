import { test } from 'vitest'
import { loadRuleText } from '../../src/rule/load.js'
import { backend } from '../../src/backends/osquery.js'
import { verifier } from '../../src/verify/osquery.js'
import { checkEquivalence } from '../../src/verify/equivalence.js'
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
test('smoke', async () => {
  for (const f of ['rules/windows/process_creation/proc_creation_win_sc_service_stop.yml']) {
    const { rules, diagnostics } = loadRuleText(readFileSync(f, 'utf8'), f)
    console.log(diagnostics)
    const r = rules[0]!
    console.log(backend.compile(r))
  }
  const text = `title: t
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\\sc.exe'
    CommandLine|contains: ['stop', 'É_%x']
  f:
    CommandLine|re: 'a.*b'
  n:
    User: null
  condition: sel and not f or n
`
  const { rules, diagnostics } = loadRuleText(text, 'x.yml')
  console.log(diagnostics)
  const c = backend.compile(rules[0]!)
  console.log(c)
  const ev = [{ Image: 'C:\\sc.exe', CommandLine: 'x stop' }, { Image: 'C:\\SC.EXE', CommandLine: 'éX%X', User: 'a' }, { Image: 'C:\\SC.EXE', CommandLine: 'É_%x' , User: 'b'}, {}]
  console.log(await checkEquivalence(rules[0]!, ev, backend, verifier))
})
