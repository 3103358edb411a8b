/**
 * Defender XDR custom detections are created disabled (issue 20) unless `.rulesmith.yml` says
 * `defender: { enabled-on-import: true }`; a wrong value is a config error at its line.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadBackend } from '../../src/backends/index.js'
import { formatSettings, loadConfig } from '../../src/config.js'
import { renderFormat, ruleVars } from '../../src/formats/render.js'
import { loadRuleText } from '../../src/rule/load.js'
import { ruleText, scratch, write } from '../hostile/helpers.js'

describe('defender enabled on import', () => {
  const dir = scratch()
  const config = (text: string) => loadConfig(write(join(dir, `${text.length}.yml`), text))

  it('off by default, on when the config says so', async () => {
    const rule = loadRuleText(ruleText(), 'rules/r.yml').rules[0]!
    const c = (await loadBackend('kql')).compile(rule, { variant: 'defender' })
    const render = async (settings: Record<string, unknown>) =>
      JSON.parse(
        await renderFormat(
          'kql',
          { name: 'defender' },
          { rule: ruleVars(rule), query: c.query!, target: 'kql', context: { ...c.context, ...settings } },
        ),
      ).isEnabled
    const off = config('targets: [kql]\n')
    expect(off.config.defenderEnabledOnImport).toBe(false)
    expect(await render(formatSettings(off.config, 'kql'))).toBe(false)
    const on = config('defender:\n  enabled-on-import: true\n')
    expect(on.diagnostics).toEqual([])
    expect(await render(formatSettings(on.config, 'kql'))).toBe(true)
    expect(formatSettings(on.config, 'spl')).toEqual({})
  })

  it('a value that is not true or false, or an unknown key, is an error at its line', () => {
    const bad = config('defender:\n  enabled-on-import: yes please\n  enable: true\n')
    expect(bad.diagnostics.map((d) => [d.code, d.at?.line, d.message])).toEqual([
      ['config/invalid', 1, 'defender.enabled-on-import must be true or false'],
      ['config/invalid', 2, "defender: unknown key 'enable' (known: enabled-on-import)"],
    ])
  })
})
