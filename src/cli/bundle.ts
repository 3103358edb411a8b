import type { Command } from './main.js'

export const command: Command = {
  summary: 'build a release bundle',
  help: `rulesmith bundle --out DIR PATHS…\n`,
  async run() {
    process.stderr.write('rulesmith bundle: not available yet\n')
    return 2
  },
}
