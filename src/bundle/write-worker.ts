/**
 * The thread behind StreamedOutput (stream-write.ts): writes each output file it is sent into the
 * temporary folder, in the order sent, while the main thread goes on compiling. Creating a file
 * is kernel work (on this project's machines about 15–150 µs a file, ~10,000 files for the
 * corpus to every target), which here runs on the second core instead of after the compile.
 *
 * After the first failed write every later file is ignored: the output will be discarded, and
 * the failure is what the main thread reports. The files go through the same writer as
 * writeAtomically (`writeInto`, RULESMITH_FAULT's fault injection included).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { writeFsFromEnv, writeInto } from './write.js'
import { errnoCode, errorMessage } from '../guards.js'

/** What the main thread sends: files to write (in order), or the request for the outcome. */
export type ToWriter = { readonly files: readonly OutputText[] } | { readonly finish: true }
/** One output file: its path relative to the output folder (`/`-separated) and its text (UTF-8). */
export interface OutputText {
  readonly path: string
  readonly text: string
}
/** The outcome: every file written, or the first failure (node's error code, when it had one). */
export type FromWriter =
  { readonly ok: true } | { readonly failed: { readonly code?: string; readonly message: string } }

const port = parentPort
const tmp: unknown = workerData
if (port && typeof tmp === 'string') {
  const fs = writeFsFromEnv()
  const made = new Set<string>()
  let failed: { code?: string; message: string } | undefined
  port.on('message', (m: ToWriter) => {
    if ('finish' in m) {
      const reply: FromWriter = failed ? { failed } : { ok: true }
      port.postMessage(reply)
      return
    }
    for (const f of m.files) {
      if (failed) return
      try {
        writeInto(tmp, f.path, f.text, made, fs)
      } catch (e) {
        const code = errnoCode(e)
        failed = { ...(code !== undefined ? { code } : {}), message: errorMessage(e) }
      }
    }
  })
}
