/**
 * A reader that stops early (`rulesmith compile … | head`) closes the pipe. rulesmith stops quietly
 * with SIGPIPE's status (141), as a Unix tool does, instead of Node's unhandled `EPIPE` error and
 * its stack trace.
 */
import { expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/rulesmith.js', import.meta.url))

test('compile into a pipe the reader has closed: exit 141, nothing on stderr', async () => {
  const child = spawn(process.execPath, [BIN, 'compile', '--target', 'spl', 'rules/'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Close our end before the first query is written.
  child.stdout.destroy()
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  expect(stderr).toBe('')
  expect(code).toBe(141)
})
