/**
 * The verifier has teeth: the queries other Sigma→SPL converters are known to emit for these
 * rules select other events than the rule, and the verifier says so, while ours agree.
 */
import { withOrigin } from '../../src/origin.js'
import { describe, expect, it } from 'vitest'
import { backend } from '../../src/backends/spl.js'
import { evaluate } from '../../src/evaluate/evaluate.js'
import type { JsonEvent, Rule } from '../../src/rule/rule.js'
import { verifier } from '../../src/verify/spl.js'
import { processRule, SYSMON1 as SCOPE, SYSMON_ONLY } from './helpers.js'

/** Other converters write the Sysmon scope as its source term. */
const SYSMON1 = 'source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1'

async function disagreements(query: string, r: Rule, events: JsonEvent[]): Promise<number[]> {
  const v = await verifier.verify(query, withOrigin(events, r.logsource))
  expect(v.diagnostics).toEqual([])
  return events.flatMap((e, i) => (v.matches![i] === evaluate(r.detection, e) ? [] : [i]))
}

const CASES: { name: string; detection: string; condition?: string; peer: string; events: JsonEvent[] }[] = [
  {
    name: '? widened to * (pySigma-backend-splunk wildcard_single)',
    detection: "sel:\n  Image: 'C:\\Windows\\sc?.exe'",
    peer: `${SYSMON1} Image="C:\\\\Windows\\\\sc*.exe"`,
    events: [{ Image: 'C:\\Windows\\sc1.exe' }, { Image: 'C:\\Windows\\sc12.exe' }],
  },
  {
    name: 'a literal * written as a wildcard',
    detection: "sel:\n  CommandLine|contains: 'a\\*b'",
    peer: `${SYSMON1} CommandLine="*a*b*"`,
    events: [{ CommandLine: 'xa*bx' }, { CommandLine: 'axxb' }],
  },
  {
    name: 'AND under OR without parentheses (search reads OR first)',
    detection: "a:\n  Image: 'x'\nb:\n  Image: 'y'\n  CommandLine: z",
    condition: 'a or b',
    peer: `${SYSMON1} Image="x" OR Image="y" CommandLine="z"`,
    events: [
      { Image: 'x', CommandLine: 'q' },
      { Image: 'y', CommandLine: 'z' },
    ],
  },
  {
    name: 'a regex under OR turned into an AND (| regex after the search)',
    detection: "a:\n  Image: 'x'\nb:\n  CommandLine|re: 'st.p'",
    condition: 'a or b',
    peer: `${SYSMON1} Image="x" | regex CommandLine="st.p"`,
    events: [{ Image: 'x' }, { Image: 'q', CommandLine: 'stop' }],
  },
  {
    name: 'not written as != (drops events without the field)',
    detection: "sel:\n  Image: 'x'\nf:\n  CommandLine: 'y'",
    condition: 'sel and not f',
    peer: `${SYSMON1} Image="x" CommandLine!="y"`,
    events: [{ Image: 'x' }, { Image: 'x', CommandLine: 'y' }],
  },
  {
    name: 'field: null written as f!=* (matches nothing)',
    detection: 'sel:\n  Image: x\nf:\n  User: null',
    condition: 'sel and f',
    peer: `${SYSMON1} Image="x" User!=*`,
    events: [{ Image: 'x' }],
  },
]

describe('spl verifier catches the known converter bugs', () => {
  it('a trailing backslash not doubled escapes the closing quote: the text does not parse', async () => {
    const r = processRule("sel:\n  Image: 'C:\\Windows\\'")
    const v = await verifier.verify(`${SYSMON1} Image="C:\\\\Windows\\"`, withOrigin([{}], r.logsource))
    expect(v.diagnostics.map((d) => d.code)).toEqual(['verify/parse'])
    expect(backend.compile(r, { pipeline: SYSMON_ONLY }).query).toBe(`${SCOPE} Image="C:\\\\Windows\\\\"`)
  })
  for (const c of CASES) {
    it(c.name, async () => {
      const r = processRule(c.detection, c.condition ?? 'sel')
      expect((await disagreements(c.peer, r, c.events)).length).toBeGreaterThan(0)
      expect(await disagreements(backend.compile(r).query!, r, c.events)).toEqual([])
    })
  }
})
