/**
 * Log-source scopes in SPL: macros (`sysmon`, `wineventlog_security` …) that the verifier expands
 * with the definitions a user deploys, and process creation searched in Sysmon event 1 and in
 * Security 4688. Each check is shown failing on a broken definition or EventCode. In-process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/spl.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import type { JsonEvent } from '../../src/rule/rule.js'
import { expandMacros, verifier } from '../../src/verify/spl.js'
import { compileOk, mismatches, processRule, sigma } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'rulesmith-spl-scope-'))
const pipeline = (name: string, text: string): string => {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

const SC_STOP = processRule("sel:\n  Image|endswith: '\\sc.exe'\n  CommandLine|contains: ' stop '")
const SECURITY_4688 = { Channel: 'Security', EventID: 4688 }
const EVENTS: JsonEvent[] = [
  { Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe stop spooler' },
  { Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe query spooler' },
  { ...SECURITY_4688, Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe stop spooler' },
  { ...SECURITY_4688, Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe query spooler' },
  // Another Security event with the same fields is no process creation.
  { Channel: 'Security', EventID: 4689, Image: 'C:\\Windows\\System32\\sc.exe', CommandLine: 'sc.exe stop spooler' },
]

describe('spl log-source scopes', () => {
  it('a process creation is searched in Sysmon 1 and in Security 4688, each with its own field names', () => {
    expect(compileOk(SC_STOP, {})).toBe(
      '(`sysmon` EventCode=1 Image="*\\\\sc.exe" CommandLine="* stop *") OR ' +
        '(`wineventlog_security` EventCode=4688 NewProcessName="*\\\\sc.exe" CommandLine="* stop *")',
    )
  })

  it('the proof holds on Sysmon and 4688 records alike, and the context lists the macros for macros.conf', async () => {
    const r = await mismatches(SC_STOP, EVENTS, {})
    expect(r.errors).toEqual([])
    expect(r.mismatches).toEqual([])
    expect(backend.compile(SC_STOP).context?.['macros']).toEqual({
      sysmon: 'source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"',
      wineventlog_security: 'source="XmlWinEventLog:Security"',
    })
  })

  it('a broken EventCode or a broken macro definition fails the proof', async () => {
    const query = compileOk(SC_STOP, {})
    const wrongCode = await checkQuery(SC_STOP, query.replace('EventCode=4688', 'EventCode=4689'), EVENTS, verifier)
    expect(wrongCode.mismatches).toEqual([2])
    // A user who defines the macro to the wrong channel deploys a query that misses 4688 records.
    const wrongMacro = pipeline(
      'wrong-macro.yml',
      'macros:\n  wineventlog_security: \'source="XmlWinEventLog:System"\'\n',
    )
    expect((await mismatches(SC_STOP, EVENTS, { pipeline: wrongMacro })).mismatches).toEqual([2])
    // A definition that drops the channel selects another channel's records.
    const anyChannel = pipeline('any-channel.yml', 'macros:\n  wineventlog_security: \'source="XmlWinEventLog:*"\'\n')
    const events4688Elsewhere = [
      { Channel: 'System', EventID: 4688, NewProcessName: 'x\\sc.exe', CommandLine: 'a stop b' },
    ]
    expect((await mismatches(SC_STOP, events4688Elsewhere, { pipeline: anyChannel })).mismatches).toEqual([0])
  })

  it('a rule that reads a field 4688 does not record stays on Sysmon, and 4688 records are not judged by it', async () => {
    const r = processRule(
      "sel:\n  Image|endswith: '\\sc.exe'\nfilter:\n  OriginalFileName: 'sc.exe'",
      'sel and not filter',
    )
    expect(compileOk(r, {})).toBe('`sysmon` EventCode=1 Image="*\\\\sc.exe" NOT OriginalFileName="sc.exe"')
    const events: JsonEvent[] = [
      { ...SECURITY_4688, Image: 'C:\\x\\sc.exe' },
      { ...SECURITY_4688, Image: 'C:\\x\\sc.exe', OriginalFileName: 'other.exe' },
    ]
    const v = await verifier.verify(compileOk(r, {}), events)
    expect(v.unrepresentable).toEqual([0, 1])
    expect(v.leftOut?.map((l) => l.reason)).toEqual([
      'the query reads OriginalFileName, which a Security 4688 record does not hold',
      'a Security 4688 record holds no OriginalFileName',
    ])
  })

  it('a rule with where predicates tells the branches apart by their EventCode', async () => {
    const r = processRule("sel:\n  Image|endswith: '\\sc.exe'\n  CommandLine|re: 'st[o0]p'")
    const q = compileOk(r, {})
    expect(q).toContain('| where (isnotnull(mvfind(EventCode, "^1\\\\z")) AND isnotnull(mvfind(CommandLine')
    expect(q).toContain(' OR (isnotnull(mvfind(EventCode, "^4688\\\\z")) AND isnotnull(mvfind(CommandLine')
    expect((await mismatches(r, EVENTS, {})).mismatches).toEqual([])
  })

  it('macros expand as Splunk expands them: nested, not inside quoted values or comments, undefined ones reported', async () => {
    const macros = { a: '`b` x=1', b: '(source="s" OR source="t")' }
    expect(expandMacros('`a` f="`a`" ```c `a` ``` | where g="`b`"', macros)).toBe(
      '(source="s" OR source="t") x=1 f="`a`" ```c `a` ``` | where g="`b`"',
    )
    // A field name with a backtick would start a macro call where the backend quotes it: refused.
    const tick = processRule("sel:\n  'a`b`c|re': x")
    expect(backend.compile(tick).diagnostics.map((d) => d.code)).toEqual(['target/unsupported-field-name'])
    const v = await verifier.verify('`no_such_macro` EventCode=1', [{}])
    expect(v.diagnostics.map((d) => d.message)).toEqual([
      'spl: the verifier cannot run the macro `no_such_macro`: it has no definition (macros: in target.yml or the pipeline)',
    ])
  })

  it('every Sigma application log source has a scope a user can redefine', () => {
    const app = (ls: string): string =>
      compileOk(sigma(`title: t\nlogsource:\n${ls}\ndetection:\n  sel:\n    a: b\n  condition: sel\n`), {})
    expect(app('  product: opencanary\n  category: application')).toBe('`sigma_opencanary` a="b"')
    expect(app('  category: antivirus')).toBe('`sigma_antivirus` a="b"')
    expect(app('  product: jvm\n  category: application')).toBe('`sigma_application` a="b"')
    expect(app('  product: rpc_firewall\n  category: application')).toBe('`sigma_rpc_firewall` a="b"')
    const mine = pipeline('mine.yml', 'macros:\n  sigma_opencanary: \'index=honeypots sourcetype="opencanary"\'\n')
    expect(
      backend.compile(
        sigma(
          `title: t\nlogsource:\n  product: opencanary\n  category: application\ndetection:\n  sel:\n    a: b\n  condition: sel\n`,
        ),
        { pipeline: mine },
      ).context?.['macros'],
    ).toEqual({ sigma_opencanary: 'index=honeypots sourcetype="opencanary"' })
  })
})
