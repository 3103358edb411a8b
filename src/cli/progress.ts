/**
 * A progress bar on stderr for long runs: shown only when stderr is a terminal, the run has many
 * rules, and --quiet is off. Never in CI logs or pipes (stderr is not a TTY there), and never on
 * stdout, so machine output stays clean. TERM=dumb terminals cannot rewrite a line: no bar.
 */

/** Runs over fewer rules finish before a bar would help. */
export const PROGRESS_MIN_RULES = 50

export interface Progress {
  /** `done` of `total` finished. */
  update(done: number): void
  /** Erase the bar (before the report is printed). */
  done(): void
}

export interface ProgressOptions {
  /** How many rules the run covers: decides whether a bar is worth showing. */
  readonly rules: number
  /** Steps to count (default `rules`; e.g. rules × targets). */
  readonly total?: number
  readonly label: string
  readonly quiet?: boolean
  readonly stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>
  readonly env?: NodeJS.ProcessEnv
}

const NONE: Progress = { update() {}, done() {} }

export function progressBar(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr
  const env = options.env ?? process.env
  if (options.quiet || stream.isTTY !== true || env['TERM'] === 'dumb' || options.rules < PROGRESS_MIN_RULES)
    return NONE
  const total = Math.max(1, options.total ?? options.rules)
  let last = -1
  let shown = false
  return {
    update(done) {
      const width = Math.max(10, Math.min(40, (stream.columns || 80) - options.label.length - 20))
      const filled = Math.round((Math.min(done, total) / total) * width)
      if (filled === last && done !== total) return // redraw only when the bar moves
      last = filled
      shown = true
      stream.write(`\r${options.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}\u001b[K`)
    },
    done() {
      if (shown) stream.write('\r\u001b[K')
      shown = false
    },
  }
}
