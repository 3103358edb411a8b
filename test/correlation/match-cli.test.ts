import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'

const MASS_TASKKILL = 'rules/windows/correlation/mr_win_mass_taskkill_database_exchange.yml'
const TASKKILL = 'rules/windows/process_creation/proc_creation_win_taskkill_critical_service_process.yml'

describe('rulesmith match on a correlation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-correlation-'))
  const kill = (s: number, host: string, proc: string) =>
    JSON.stringify({
      UtcTime: new Date(Date.UTC(2026, 10, 30, 2, 14, s)).toISOString(),
      Computer: host,
      Image: 'C:\\Windows\\System32\\taskkill.exe',
      CommandLine: `taskkill /IM ${proc} /F`,
    })
  const events = join(dir, 'events.jsonl')
  // WS1: five kills in a minute (fires); WS2: four (does not); line 5 is blank.
  writeFileSync(
    events,
    [
      kill(0, 'WS1', 'sqlservr.exe'),
      kill(1, 'WS2', 'sqlservr.exe'),
      kill(10, 'WS1', 'store.exe'),
      kill(11, 'WS2', 'store.exe'),
      kill(20, 'WS1', 'mysqld.exe'),
      '',
      kill(21, 'WS2', 'mysqld.exe'),
      kill(30, 'WS1', 'beserver.exe'),
      kill(31, 'WS2', 'beserver.exe'),
      kill(40, 'WS1', 'oracle.exe'),
    ].join('\n') + '\n',
  )

  it('prints one line per firing group with the line indexes of its events, on the reference, on osquery and on SPL', () => {
    const firing = (target: string[]) => {
      const r = cli(['match', '--events', events, ...target, MASS_TASKKILL, TASKKILL])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => 'group' in l)
    }
    const want = [
      {
        rule: 'bfa0a86f-e856-49eb-8127-8d577a9882f4',
        title: 'Mass Taskkill Of Database, Exchange, Backup Or Security Processes On One Host',
        group: { Computer: 'WS1' },
        events: [0, 2, 4, 7, 9],
      },
    ]
    expect(firing([])).toEqual(want)
    expect(firing(['--target', 'osquery'])).toEqual(want)
    expect(firing(['--target', 'spl'])).toEqual(want)
  })
})
