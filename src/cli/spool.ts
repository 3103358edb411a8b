/**
 * Output held back until a run is known to succeed, in memory up to a size and then in a
 * temporary file, so that "no partial output" does not cost memory in the size of the output.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { must } from '../guards.js'

const IN_MEMORY = 4 * 1024 * 1024

export class Spool {
  private chunks: string[] = []
  private size = 0
  private dir: string | undefined
  private fd: number | undefined

  write(text: string): void {
    if (this.fd === undefined) {
      this.chunks.push(text)
      this.size += text.length
      if (this.size < IN_MEMORY) return
      this.dir = mkdtempSync(join(tmpdir(), 'rulesmith-spool-'))
      this.fd = openSync(join(this.dir, 'out'), 'w', 0o600)
      text = this.chunks.join('')
      this.chunks = []
    }
    writeSync(this.fd, text)
  }

  /** Write everything held to `out`, in order. */
  async copyTo(out: NodeJS.WritableStream): Promise<void> {
    if (this.fd === undefined) {
      if (this.chunks.length) out.write(this.chunks.join(''))
      return
    }
    closeSync(this.fd)
    this.fd = undefined
    await pipeline(createReadStream(join(must(this.dir, 'a spool writing to a file has its folder'), 'out')), out, {
      end: false,
    })
  }

  /** Drop the temporary file, if any. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    if (this.dir) rmSync(this.dir, { recursive: true, force: true })
  }
}
