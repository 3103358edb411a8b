/**
 * The proof can fail: compiled queries of the rule pack, mutated the way a wrong target map or a
 * backend bug would change them (another EventCode, source, table, ActionType, event category or
 * type, channel, osquery table or fixed column; a dropped `not`; a widened value), must be reported
 * as disagreeing with their rule by the library behind `rulesmith verify`, on the rule's tests file
 * plus generated events. The unmutated query must agree, so the catch is the mutation's.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import { eventsForRule, verifyQuery } from '../../src/proof/verify-query.js'
import { loadPaths } from '../../src/rule/load.js'
import type { Rule } from '../../src/rule/rule.js'
import type { TargetId, TargetOptions } from '../../src/target-ids.js'

const RULES = fileURLToPath(new URL('../../rules', import.meta.url))
const { rules } = loadPaths([RULES])
const rule = (name: string): Rule => {
  const r = rules.find((x) => x.file.endsWith(`/${name}.yml`))
  if (!r) throw new Error(`no rule ${name} in the pack`)
  return r
}

const WIN_SC = 'proc_creation_win_sc_service_stop'
const WIN_SYSTEM = 'win_system_critical_service_stopped'
const WIN_SECURITY = 'win_security_event_log_service_shutdown'
const WIN_REGISTRY = 'registry_set_win_service_start_disabled'
const LNX_SYSTEMCTL = 'proc_creation_lnx_systemctl_service_stop'

interface Mutation {
  readonly target: TargetId
  readonly variant?: string
  readonly kind: string
  readonly rule: string
  readonly from: string
  readonly to: string
}

const MUTATIONS: readonly Mutation[] = [
  { target: 'spl', kind: 'another EventCode', rule: WIN_SC, from: 'EventCode=1 ', to: 'EventCode=5 ' },
  {
    target: 'spl',
    kind: 'another source (macro)',
    rule: WIN_SYSTEM,
    from: '`wineventlog_system`',
    to: '`wineventlog_application`',
  },
  {
    target: 'spl',
    kind: 'another sourcetype (macro)',
    rule: LNX_SYSTEMCTL,
    from: '`sysmon_linux`',
    to: '`linux_auditd`',
  },
  { target: 'spl', kind: 'dropped not', rule: WIN_SC, from: ' NOT (', to: ' (' },
  { target: 'spl', kind: 'widened value', rule: WIN_SC, from: 'Image="*\\\\sc.exe"', to: 'Image="*sc.exe"' },

  { target: 'kql', kind: 'another table', rule: LNX_SYSTEMCTL, from: 'DeviceProcessEvents', to: 'DeviceFileEvents' },
  {
    target: 'kql',
    kind: 'another ActionType',
    rule: WIN_REGISTRY,
    from: 'ActionType == "RegistryValueSet"',
    to: 'ActionType == "RegistryKeyCreated"',
  },
  { target: 'kql', kind: 'dropped not', rule: WIN_SC, from: 'and not(', to: 'and (' },
  {
    target: 'kql',
    kind: 'widened value',
    rule: WIN_SC,
    from: 'FileName =~ "sc.exe"',
    to: 'FileName contains "sc.exe"',
  },
  { target: 'kql', variant: 'sentinel', kind: 'another table', rule: WIN_SECURITY, from: 'SecurityEvent', to: 'Event' },
  {
    target: 'kql',
    variant: 'sentinel',
    kind: 'another EventID',
    rule: WIN_SECURITY,
    from: 'EventID == 1100',
    to: 'EventID == 1102',
  },

  { target: 'eql', kind: 'another event.category', rule: WIN_SC, from: 'process where', to: 'file where' },
  { target: 'eql', kind: 'any event.category', rule: WIN_SC, from: 'process where', to: 'any where' },
  {
    target: 'eql',
    kind: 'another event.type',
    rule: WIN_SC,
    from: 'event.type == "start"',
    to: 'event.type == "end"',
  },
  {
    target: 'eql',
    kind: 'another channel',
    rule: WIN_SYSTEM,
    from: 'winlog.channel == "System"',
    to: 'winlog.channel == "Application"',
  },
  { target: 'eql', kind: 'dropped not', rule: WIN_SC, from: 'and not (', to: 'and (' },
  {
    target: 'eql',
    kind: 'widened value',
    rule: WIN_SC,
    from: 'process.executable : "*\\\\sc.exe"',
    to: 'process.executable : "*sc.exe"',
  },

  {
    target: 'osquery',
    kind: 'another table',
    rule: LNX_SYSTEMCTL,
    from: "FROM process_events WHERE syscall IN ('execve', 'execveat') AND",
    to: "FROM es_process_events WHERE event_type = 'exec' AND",
  },
  {
    target: 'osquery',
    kind: 'another fixed column (syscall)',
    rule: LNX_SYSTEMCTL,
    from: "syscall IN ('execve', 'execveat')",
    to: "syscall IN ('fork', 'vfork')",
  },
  {
    target: 'osquery',
    kind: 'another channel (source)',
    rule: WIN_SYSTEM,
    from: "source = 'System'",
    to: "source = 'Application'",
  },
  { target: 'osquery', kind: 'dropped not', rule: LNX_SYSTEMCTL, from: 'AND NOT (', to: 'AND (' },
  {
    target: 'osquery',
    kind: 'widened value',
    rule: LNX_SYSTEMCTL,
    from: "path LIKE '%/systemctl'",
    to: "path LIKE '%systemctl'",
  },
]

const table: string[] = []

describe('comments, as each engine writes them, are not part of the query', () => {
  const COMMENTS: Record<TargetId, (q: string) => string> = {
    spl: (q) => `\`\`\` rule: x \`\`\`\n${q.replace(' NOT (', ' ```a comment``` NOT (')}`,
    kql: (q) => `// rule: x\n// title: "a // b"\n${q}`,
    eql: (q) => `// rule: x\n/* title:\n  two lines */ ${q}`,
    osquery: (q) => `-- rule: x\n/* title */\n${q}`,
  }
  for (const target of ['spl', 'kql', 'eql', 'osquery'] as const)
    it(target, async () => {
      const r = rule(LNX_SYSTEMCTL)
      const query = (await loadBackend(target)).compile(r).query!
      const { events } = eventsForRule(r, 20)
      const commented = COMMENTS[target](query)
      expect(commented).not.toBe(query)
      const verdict = await verifyQuery(r, target, commented, events)
      expect(verdict.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
      expect(verdict.agrees).toBe(true)
    })
})

describe('mutated queries are caught by rulesmith verify', () => {
  for (const m of MUTATIONS) {
    const name = `${m.target}${m.variant ? `/${m.variant}` : ''}`
    it(`${name}: ${m.kind} (${m.rule})`, async () => {
      const r = rule(m.rule)
      const options: TargetOptions = m.variant ? { variant: m.variant } : {}
      const query = (await loadBackend(m.target)).compile(r, options).query
      expect(query, 'the rule compiles').toBeDefined()
      const { events } = eventsForRule(r)
      const original = await verifyQuery(r, m.target, query!, events, options)
      expect(original.agrees, 'the compiled query agrees before the mutation').toBe(true)
      const mutated = query!.replace(m.from, m.to)
      expect(mutated, `the mutation applies: ${m.from}`).not.toBe(query)
      const verdict = await verifyQuery(r, m.target, mutated, events, options)
      expect(verdict.agrees).toBe(false)
      const how =
        verdict.actual === undefined
          ? `caught: the verifier rejects it (${verdict.diagnostics.find((d) => d.severity === 'error')?.code})`
          : `caught: ${verdict.mismatches.length} of ${events.length} events disagree`
      table.push(`| ${name} | ${m.kind} | \`${m.from.trim()}\` → \`${m.to.trim()}\` | ${how} |`)
    })
  }
  afterAll(() => {
    console.log(['| target | mutation | change | result |', '|---|---|---|---|', ...table].join('\n'))
  })
})
