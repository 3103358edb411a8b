/**
 * Sigma regexes for every target: parse once (parse.ts), then print in the target's dialect or
 * name the construct it cannot express. One refusal code for all of them on every target,
 * `target/unsupported-regex`, with the construct in the message.
 */
import type { Printed, RegexFlags, SigmaRegex, Unsupported } from './ast.js'
import { parseSigmaRegex } from './parse.js'

export type { Printed, RegexFlags, SigmaRegex, Unsupported } from './ast.js'

/** The diagnostic code of every regex refusal, on every target. */
export const UNSUPPORTED_REGEX = 'target/unsupported-regex'

/** Parse a Sigma regex and print it with a dialect's printer. */
export function translateRegex(source: string, flags: RegexFlags, print: (regex: SigmaRegex) => Printed): Printed {
  const parsed = parseSigmaRegex(source, flags)
  return 'unsupported' in parsed ? parsed : print(parsed)
}

/** The refusal message, the same shape on every target: what, on which regex, and why. */
export function unsupportedRegexMessage(target: string, source: string, u: Unsupported): string {
  return `${target} cannot express the regular expression ${JSON.stringify(source)} exactly: ${u.construct} (${u.why})`
}
