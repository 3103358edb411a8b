/**
 * The one way a backend says "this target cannot express that exactly": a renderer throws a
 * `Refusal` at the construct, naming its code (the same code on every target, from
 * diagnostics/codes.ts); the backend's `Refusals` catches it at the leaf it came from, records a
 * diagnostic and puts a placeholder in its place, so that every refused construct of a rule is
 * reported in one run and no query is returned.
 */
import type { Pos } from '../ast/nodes.js'
import type { Diagnostic, DiagnosticCode } from '../diagnostics.js'
import type { Rule } from '../rule/rule.js'
import type { TargetId, TargetOptions } from './types.js'

/** The codes a target may refuse with. */
export type RefusalCode = Extract<DiagnosticCode, `target/${string}` | 'config/pipeline'>

export class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly at?: Pos,
  ) {
    // A refusal is caught by `Refusals.leaf` and reported at the rule's line, never with a stack:
    // capturing one was the largest single cost of compiling a corpus where many rules refuse.
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(message)
    Error.stackTraceLimit = limit
  }
}

/** The refusals (and warnings) of one rule's compile for one target. */
export class Refusals {
  readonly diagnostics: Diagnostic[] = []

  constructor(
    readonly target: TargetId,
    readonly rule: Rule,
  ) {}

  /** Render one construct; a Refusal it throws is recorded and `instead` stands in its place. */
  leaf<T>(render: () => T, instead: T): T {
    try {
      return render()
    } catch (e) {
      if (!(e instanceof Refusal)) throw e
      this.add(e)
      return instead
    }
  }

  add(r: Refusal): void {
    this.diagnostics.push(this.diagnostic('error', r.code, r.message, r.at ?? this.rule.at))
  }

  warn(code: DiagnosticCode, message: string, at?: Pos): void {
    this.diagnostics.push(this.diagnostic('warning', code, message, at))
  }

  get refused(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error')
  }

  private diagnostic(severity: 'error' | 'warning', code: DiagnosticCode, message: string, at?: Pos): Diagnostic {
    return { code, severity, message, file: this.rule.file, ...(at ? { at } : {}), target: this.target }
  }
}

/** A whole-rule refusal (no log source, a keyword …): the rule's own position when none is given. */
export function refuseRule(target: TargetId, rule: Rule, code: RefusalCode, message: string, at?: Pos) {
  return {
    diagnostics: [{ code, severity: 'error' as const, message, file: rule.file, at: at ?? rule.at, target }],
  }
}

/** A pipeline (or variant) the target cannot load: reported on the pipeline file when there is one. */
export function pipelineError(target: TargetId, rule: Rule, options: TargetOptions | undefined, message: string) {
  const file = options?.pipeline
  return {
    diagnostics: [
      {
        code: 'config/pipeline' as const,
        severity: 'error' as const,
        message,
        ...(file ? { file } : { file: rule.file, at: rule.at }),
        target,
      },
    ],
  }
}
