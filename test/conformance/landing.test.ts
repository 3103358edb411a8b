/**
 * The backends' log-source maps (targets/<t>/target.yml, read by src/backends/*-env.ts) and the
 * verifiers' own models of where events land (src/verify/*-events.ts) are written apart; on every
 * rule of the pack they must agree: the search terms, table, conditions, category and constants a
 * backend pins for a log source are what the verifier says an event of that log source carries.
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadEnvironment, resolveLogSource as eqlLogSource } from '../../src/backends/eql-env.js'
import { kqlEnv, resolveLogSource as kqlLogSource } from '../../src/backends/kql-env.js'
import { loadEnv as osqueryEnv, resolveLogSource as osqueryLogSource } from '../../src/backends/osquery-env.js'
import { loadEnv as splEnv, resolveLogSource as splLogSource } from '../../src/backends/spl-env.js'
import { originOf, type Origin } from '../../src/origin.js'
import { loadPaths } from '../../src/rule/load.js'
import type { LogSource } from '../../src/rule/rule.js'
import { landing as eqlLanding } from '../../src/verify/eql-events.js'
import { landing as kqlLanding } from '../../src/verify/kql-events.js'
import { landing as osqueryLanding } from '../../src/verify/osquery-events.js'
import { landing as splLanding } from '../../src/verify/spl-events.js'
import { place } from '../../src/verify/winlog.js'
import { expandMacros, runCommand } from '../../src/verify/spl.js'
import { parseSpl } from '../../grammars/spl.js'
import { first } from '../../src/guards.js'

const RULES = fileURLToPath(new URL('../../rules', import.meta.url))
const { rules } = loadPaths([RULES])
const origin = (ls: LogSource): Origin => originOf({ _logsource: ls })!
const lower = (v: unknown): string => String(v).toLowerCase()

type Fixed = Readonly<Record<string, string | number | readonly (string | number)[]>>

/**
 * Where a backend's pinned values and a verifier's landing differ: each pinned field must be one the
 * landing gives, with a value the pin accepts (case-insensitive; a list accepts any of its values).
 */
export function disagreements(pinned: Fixed, landed: Readonly<Record<string, string | number>> | undefined): string[] {
  if (!landed) return ['the verifier lands no event of this log source']
  return Object.entries(pinned).flatMap(([field, want]) => {
    const accepted = (Array.isArray(want) ? want : [want]).map(lower)
    const got = landed[field]
    return got !== undefined && accepted.includes(lower(got))
      ? []
      : [`${field}: backend ${JSON.stringify(want)}, verifier ${JSON.stringify(got)}`]
  })
}

describe('backend log-source maps and verifier landing models agree on the rule pack', () => {
  it('the comparison fails on a map that differs (a wrong EventCode, a wrong table)', () => {
    expect(disagreements({ EventCode: 5 }, { source: 'XmlWinEventLog:x', EventCode: '1' })).toEqual([
      'EventCode: backend 5, verifier "1"',
    ])
    expect(disagreements({ table: 'DeviceFileEvents' }, { table: 'DeviceProcessEvents' })).toHaveLength(1)
    expect(disagreements({ EventCode: [12, 13] }, { EventCode: '13' })).toEqual([])
  })

  it('spl: search terms', () => {
    const { env } = splEnv()
    let checked = 0
    for (const rule of rules) {
      const ls = splLogSource(env!, rule.logsource)
      if (!ls) continue
      const pinned = Object.fromEntries(ls.search.map(([f, values]) => [f, values]))
      const landed = splLanding(place(origin(rule.logsource)))
      expect(disagreements(pinned, landed), rule.file).toEqual([])
      // The log source's macro, as the verifier expands it, selects where such an event lands.
      if (ls.macro !== undefined) {
        const parsed = parseSpl(expandMacros(`\`${ls.macro}\``, env!.macros))
        const rec = new Map(Object.entries(landed ?? {}).map(([k, v]) => [k, [String(v)]]))
        expect(runCommand(parsed.query!.commands[0]!, rec), `${rule.file}: \`${ls.macro}\``).toBe(true)
      }
      checked++
    }
    expect(checked).toBeGreaterThan(40)
  })

  for (const variant of ['defender', 'sentinel']) {
    it(`kql (${variant}): table and conditions`, () => {
      const { env } = kqlEnv({ variant })
      let checked = 0
      for (const rule of rules) {
        const ls = kqlLogSource(env!, rule.logsource)
        if (!ls) continue
        const land = kqlLanding(origin(rule.logsource), variant)
        const landed = land && { table: land.table, ...land.constants, ...land.fixed }
        expect(disagreements({ table: ls.table, ...ls.conditions }, landed), rule.file).toEqual([])
        checked++
      }
      expect(checked).toBeGreaterThan(variant === 'defender' ? 30 : 5)
    })
  }

  it('eql: event category and constants', () => {
    const { env } = loadEnvironment()
    let checked = 0
    for (const rule of rules) {
      const ls = eqlLogSource(rule.logsource, env!)
      if (!ls) continue
      const land = eqlLanding(origin(rule.logsource))
      const landed = land && { ...(land.category ? { 'event.category': land.category } : {}), ...land.constants }
      const pinned = { ...(ls.category !== 'any' ? { 'event.category': ls.category } : {}), ...ls.constants }
      expect(disagreements(pinned, landed), rule.file).toEqual([])
      // Event data values the pipeline removes (Sysmon): the backend refuses tests on exactly the
      // values, and outside exactly the fields, that the verifier's landing removes.
      const removes = ls.removes
      expect(removes !== undefined, `${rule.file}: removes`).toBe(land?.removes !== undefined)
      if (removes && land?.removes) {
        for (const v of [...removes.values, '--', ' ', 'x'])
          expect(land.removes('Image', v), `${rule.file}: ${JSON.stringify(v)}`).toBe(removes.values.includes(v))
        for (const f of removes.except) expect(land.removes(f, first(removes.values)), f).toBe(false)
      }
      checked++
    }
    expect(checked).toBeGreaterThan(40)
  })

  it('osquery: table and fixed columns', () => {
    const { env } = osqueryEnv()
    let checked = 0
    for (const rule of rules) {
      const ls = osqueryLogSource(env!, rule.logsource)
      if (!ls) continue
      const land = osqueryLanding(origin(rule.logsource))
      const landed = land && { table: land.table, ...land.constants }
      expect(disagreements({ table: ls.table, ...ls.conditions }, landed), rule.file).toEqual([])
      checked++
    }
    expect(checked).toBeGreaterThan(25)
  })
})
