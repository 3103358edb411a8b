/**
 * An output folder written while it is being produced (`compile --out`), with writeAtomically's
 * all-or-nothing semantics: files go into the temporary folder beside DIR as soon as each rule is
 * compiled — by a worker thread, so creating them overlaps the compiling — and DIR is replaced
 * only by `commit`, once the whole run is known to be clean. `discard` (any error) removes the
 * temporary folder: DIR is as it was, nothing is left beside it.
 *
 * Why a thread and not `fs.promises`: the compile loop never yields to the event loop (its awaits
 * are microtasks), so libuv's completions would wait for the end of the compile; a worker has its
 * own loop. Why not write after compiling, as before: on the 2-core machines this project is
 * measured on, writing ~10,000 files took 0.15–1.7 s of kernel time (ext4's inode allocator skips
 * recently deleted inodes, and the time grows with how many there are), in series with the rest.
 *
 * The thread costs ~40 ms of CPU to start and ~10 MB, more than a small output takes to write
 * (`compile --out` of one rule was 30–60 ms slower with it): it starts only once THREAD_AT files
 * are queued; a smaller output is written in this thread by `commit`, by the same writeInto.
 */
import { Worker } from 'node:worker_threads'
import {
  discardTempFolder,
  leftBehind,
  makeTempFolder,
  removeTree,
  swapInKeepingOld,
  writeFsFromEnv,
  writeInto,
  type LeftBehind,
  type OutputKind,
  type TempFolder,
} from './write.js'
import type { FromWriter, OutputText, ToWriter } from './write-worker.js'
import { errorMessage } from '../guards.js'

/** Files queued before the writing moves to a thread. */
export const THREAD_AT = 256
/**
 * Files sent to the thread in one message: a message costs the main thread ~50 µs whatever its
 * size (0.5 s of the compile of SigmaHQ to every target with one message a file).
 */
const BATCH = 64

export class StreamedOutput {
  private readonly temp: TempFolder | undefined
  private worker: Worker | undefined
  /** Files not yet sent: all of them while there is no thread (fewer than THREAD_AT so far), then up to BATCH. */
  private pending: OutputText[] = []
  /** Why the output cannot be written (the temporary folder could not be made, the thread died). */
  private failure: unknown
  /** Settles with the thread's outcome, or when it dies before giving one. */
  private outcome: Promise<FromWriter> | undefined
  private finishing = false
  /** Committed or discarded: the temporary folder is gone (renamed to DIR, or removed). */
  private done = false

  /**
   * Start an output for DIR. A failure to create the temporary folder is not thrown here: it is
   * what `commit` throws, once the run is done, as writeAtomically would have at that point.
   */
  constructor(
    dir: string,
    private readonly kind: OutputKind,
  ) {
    try {
      this.temp = makeTempFolder(dir)
    } catch (e) {
      this.failure = e
    }
  }

  /** Queue one file (`path` relative, `/`-separated) for the temporary folder. */
  add(path: string, text: string): void {
    if (this.failure !== undefined || !this.temp) return
    this.pending.push({ path, text })
    if (this.worker) {
      if (this.pending.length >= BATCH) this.send()
    } else if (this.pending.length >= THREAD_AT) this.startThread(this.temp)
  }

  /** Send the files not yet sent to the thread, in order. */
  private send(): void {
    if (!this.worker || this.pending.length === 0) return
    this.worker.postMessage({ files: this.pending } satisfies ToWriter)
    this.pending = []
  }

  /**
   * Write `last` (the manifest) after every queued file, then put the folder in DIR's place.
   * Throws the first write's error (node's errno code kept, for ioFailure) with nothing left behind.
   * Returns the previous output when it could not be removed once the new one was in place.
   */
  async commit(last: readonly OutputText[]): Promise<LeftBehind | undefined> {
    if (this.done) throw new Error('internal error: an output committed or discarded twice')
    for (const f of last) this.add(f.path, f.text)
    const outcome = await this.finish()
    this.done = true // swapIn and discardTempFolder leave no temporary folder, whatever they throw
    const temp = this.temp
    if (!temp) throw this.failure
    if (!outcome) {
      // No thread: the files are written here, in the order queued.
      try {
        const fs = writeFsFromEnv()
        const made = new Set<string>()
        for (const f of this.pending) writeInto(temp.tmp, f.path, f.text, made, fs)
      } catch (e) {
        discardTempFolder(temp)
        throw e
      }
    } else if (this.failure !== undefined) {
      discardTempFolder(temp)
      throw this.failure
    } else if ('failed' in outcome) {
      discardTempFolder(temp)
      const { code, message } = outcome.failed
      throw Object.assign(new Error(message), code !== undefined ? { code } : {})
    }
    const old = swapInKeepingOld(temp, this.kind)
    if (!old) return undefined
    try {
      await removeTree(old, writeFsFromEnv())
      return undefined
    } catch (e) {
      return leftBehind(old, e)
    }
  }

  /** Drop everything written: DIR stays as it was and no temporary folder remains. */
  async discard(): Promise<void> {
    if (this.done) return
    await this.finish()
    this.done = true
    if (this.temp) discardTempFolder(this.temp)
  }

  /** Move the writing to a thread: the files queued so far first, in order. */
  private startThread(temp: TempFolder): void {
    const worker = new Worker(new URL('./write-worker.js', import.meta.url), { workerData: temp.tmp })
    this.worker = worker
    this.outcome = new Promise<FromWriter>((resolve) => {
      const died = (e: Error) => {
        this.failure ??= e
        resolve({ failed: { message: errorMessage(e) } })
      }
      worker.once('message', resolve)
      worker.once('error', died)
      worker.once('exit', () => died(new Error('the output writer stopped before it was done')))
    })
    this.send()
  }

  /**
   * Wait until the thread has written (or failed on) every queued file, then stop it; undefined
   * when there is no thread.
   */
  private async finish(): Promise<FromWriter | undefined> {
    const worker = this.worker
    if (!worker || !this.outcome) return undefined
    if (!this.finishing) {
      this.finishing = true
      this.send()
      worker.postMessage({ finish: true } satisfies ToWriter)
    }
    const outcome = await this.outcome
    worker.removeAllListeners().on('error', () => undefined) // stopping it is not a failure
    await worker.terminate()
    return outcome
  }
}
