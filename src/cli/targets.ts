import { readFileSync, existsSync } from 'node:fs'
import yaml from 'js-yaml'
import { TARGET_IDS } from '../backends/types.js'
import { formatsOf } from '../formats/render.js'
import { targetPath } from '../paths.js'
import { parseArgs } from './args.js'
import type { Command } from './main.js'
import { isMap, mapOf } from '../guards.js'

export const command: Command = {
  summary: 'list targets',
  help: `rulesmith targets [--json]

List the targets, the output formats each ships (targets/<id>/formats/*.hbs) and the log
sources each supports (targets/<id>/target.yml; add your own with --pipeline FILE).

Example:
  rulesmith targets
`,
  async run(argv) {
    const args = parseArgs(argv, { switches: ['json'] })
    const info = TARGET_IDS.map((id) => {
      const file = targetPath(id, 'target.yml')
      let logsources: string[] = []
      if (existsSync(file)) {
        const data = mapOf(yaml.load(readFileSync(file, 'utf8'), { schema: yaml.CORE_SCHEMA }) ?? {}, file)
        const describe = (sources: unknown, prefix = '') =>
          Object.entries(isMap(sources) ? sources : {}).map(
            ([name, l]) =>
              `${prefix}${name} (${Object.entries(isMap(l) && isMap(l['match']) ? l['match'] : {})
                .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
                .join(', ')})`,
          )
        // Its own log sources (spl), then each variant's (kql: defender, sentinel; spl: cim).
        const variants = data['variants']
        logsources = [
          ...describe(data['logsources']),
          ...Object.entries(isMap(variants) ? variants : {}).flatMap(([variant, v]) =>
            describe(isMap(v) ? v['logsources'] : undefined, `${variant}: `),
          ),
        ]
      }
      return { id, formats: formatsOf(id), logsources }
    })
    if (args.switches.has('json')) {
      process.stdout.write(JSON.stringify(info, null, 2) + '\n')
      return 0
    }
    for (const t of info) {
      process.stdout.write(
        `${t.id}\n  formats: ${t.formats.join(', ') || '-'}\n  log sources:\n${t.logsources.map((l) => `    ${l}`).join('\n') || '    -'}\n`,
      )
    }
    return 0
  },
}
