/**
 * Regular expressions from untrusted rules, run in bounded time.
 *
 * A backtracking engine can take exponential time on a pattern such as `(a+)+$`, and V8's own
 * engine (irregexp) is one. Two ways out, chosen per pattern:
 *
 * 1. V8's linear-time engine (the `l` flag, behind `--enable-experimental-regexp-engine`): the
 *    same parser and the same JavaScript semantics, run as an automaton. It takes no `i` and no `u`
 *    flag and no lookaround or back-reference; for `i` without `u` the pattern is rewritten so that
 *    it needs no flag (see `caseFold`). A pattern it refuses takes the second way.
 * 2. A budget: the native test runs under a V8 watchdog (`vm` with `timeout`), which interrupts
 *    the engine mid-backtrack; running out of time is a `RegexBudgetError`, which callers turn into
 *    a positioned diagnostic, never into a silent "no match".
 *
 * Both keep the exact meaning of `new RegExp(source, flags).test(s)`; test/unit/bounded-regex
 * checks that on random patterns against the native engine.
 */
import { setFlagsFromString } from 'node:v8'
import { createContext, Script, type Context } from 'node:vm'
import { errnoCode, must } from './guards.js'

/** A test ran out of its time budget: the pattern backtracks too much on this value. */
export class RegexBudgetError extends Error {
  constructor(
    readonly source: string,
    readonly budgetMs: number,
  ) {
    super(
      `the regular expression ${JSON.stringify(source)} ran out of its ${budgetMs} ms budget (catastrophic backtracking?)`,
    )
  }
}

/** Per-match time budget for patterns the linear engine cannot run; `limits.regexBudgetMs` in the config. */
export const DEFAULT_REGEX_BUDGET_MS = 1000
let budgetMs = DEFAULT_REGEX_BUDGET_MS

export function setRegexBudget(ms: number): void {
  budgetMs = ms
}

/** The RegExp operations, each bounded; each may throw `RegexBudgetError`. */
export interface BoundedRegex {
  /** Does the pattern match somewhere in `s` (`RegExp.prototype.test`)? */
  test(s: string): boolean
  /** `RegExp.prototype.exec` from the start of `s`. */
  exec(s: string): RegExpExecArray | null
  /** `String.prototype.split(regex)`. */
  split(s: string): string[]
  /** Which engine runs `test`: for tests and benchmarks. */
  readonly engine: 'linear' | 'budget'
}

let linearAvailable: boolean | undefined

/** The linear engine is a V8 flag; set it once, and check that this V8 still has it. */
function linearEngine(): boolean {
  if (linearAvailable === undefined) {
    try {
      setFlagsFromString('--enable-experimental-regexp-engine')
      new RegExp('a', 'l')
      linearAvailable = true
    } catch {
      linearAvailable = false
    }
  }
  return linearAvailable
}

let budget: { context: Context; script: Script } | null | undefined

/** Run `f` under the watchdog: V8 terminates it, even inside the regex engine, after the budget. */
export function withinBudget<T>(f: () => T, source: string): T {
  if (budget === undefined) {
    try {
      budget = { context: createContext({ run: (): unknown => undefined }), script: new Script('run()') }
    } catch {
      // No node:vm (the browser playground, where the page is its own sandbox): unbounded.
      budget = null
    }
  }
  if (budget === null) return f()
  // The result comes back through the closure: runInContext's own return value is untyped.
  let result: { value: T } | undefined
  budget.context['run'] = () => {
    result = { value: f() }
  }
  try {
    budget.script.runInContext(budget.context, { timeout: budgetMs })
  } catch (e) {
    if (errnoCode(e) === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new RegexBudgetError(source, budgetMs)
    throw e
  }
  return must(result, 'run() ran to its end').value
}

/**
 * A bounded `new RegExp(source, flags)` (flags from `imsu`; `g`/`y` are not meaningful for a
 * yes/no test). Throws the RegExp's own SyntaxError for an invalid pattern.
 */
export function boundedRegex(source: string, flags: string): BoundedRegex {
  const native = new RegExp(source, flags)
  const budget: BoundedRegex = {
    test: (s) => withinBudget(() => native.test(s), source),
    exec: (s) => withinBudget(() => native.exec(s), source),
    split: (s) => withinBudget(() => s.split(native), source),
    engine: 'budget',
  }
  if (!linearEngine() || flags.includes('u')) return budget
  const rest = flags.replace('i', '')
  if (!flags.includes('i')) {
    const linear = tryLinear(source, rest)
    if (linear)
      return {
        test: (s) => linear.test(s),
        exec: (s) => linear.exec(s),
        split: (s) => s.split(linear),
        engine: 'linear',
      }
    return budget
  }
  // Matched on canonical text, the yes/no answer is exact; the matched text would be canonical, so
  // exec and split keep the native engine under the budget.
  const folded = caseFold(source)
  const linear = folded === undefined ? undefined : tryLinear(folded, rest)
  return linear ? { ...budget, test: (s) => linear.test(canonical(s)), engine: 'linear' } : budget
}

function tryLinear(source: string, flags: string): RegExp | undefined {
  try {
    return new RegExp(source, flags + 'l')
  } catch {
    return undefined
  }
}

// Case-insensitive matching without `u` (ECMA-262 Canonicalize, non-Unicode): a character stands
// for its toUpperCase() when that is one code unit and does not take a non-ASCII character into
// ASCII. Two characters match when their canonical forms are equal. So matching `/p/i` on s is
// matching p', with every literal and class replaced by its canonical image, on canonical(s):
// a class [C] holds ch exactly when canonical(ch) is in canonical(C). Canonicalize keeps line
// terminators, digits, white space and ASCII word characters in their categories, so `.`, `\d`,
// `\s`, `\w`, `\b` and their negations mean the same on canonical text.

let canonTable: Uint16Array | undefined

function canonOf(): Uint16Array {
  if (!canonTable) {
    canonTable = new Uint16Array(0x10000)
    for (let c = 0; c < 0x10000; c++) {
      const u = String.fromCharCode(c).toUpperCase()
      const cu = u.length === 1 ? u.charCodeAt(0) : c
      canonTable[c] = c >= 128 && cu < 128 ? c : cu
    }
  }
  return canonTable
}

function canonical(s: string): string {
  const t = canonOf()
  let out = ''
  let changed = false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const k = t[c] ?? c
    if (k !== c) changed = true
    out += String.fromCharCode(k)
  }
  return changed ? out : s
}

const hex4 = (c: number): string => '\\u' + c.toString(16).padStart(4, '0')

/** A set of code units as a class body: ranges of `\uXXXX`. */
function classBody(set: Uint8Array): string {
  let out = ''
  for (let c = 0; c < 0x10000; c++) {
    if (!set[c]) continue
    let e = c
    while (e + 1 < 0x10000 && set[e + 1]) e++
    out += e === c ? hex4(c) : `${hex4(c)}-${hex4(e)}`
    c = e
  }
  return out
}

const ESCAPE_SETS: Record<string, (c: number) => boolean> = {
  d: (c) => c >= 48 && c <= 57,
  w: (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95,
  s: (c) =>
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff,
}

const CONTROL: Record<string, number> = { f: 12, n: 10, r: 13, t: 9, v: 11 }

/**
 * Rewrite a non-`u` pattern for case-insensitive matching on canonical text (above), or
 * undefined for syntax this rewriter does not read (then the budget path runs the pattern as is).
 * Reads ECMA-262 Annex B syntax: `{` not starting a quantifier and a lone `]` are literals.
 */
export function caseFold(source: string): string | undefined {
  const t = canonOf()
  let i = 0
  let out = ''
  const n = source.length
  /** One escaped character after `\`; a class escape returns its letter. */
  const escapeAt = (inClass: boolean): number | { cls: string } | undefined => {
    const c = source[i++]
    if (c === undefined) return undefined
    if ('dDwWsS'.includes(c)) return { cls: c }
    const control = CONTROL[c]
    if (control !== undefined) return control
    if (c === 'b') return inClass ? 8 : { cls: 'b' }
    if (c === 'B') return inClass ? undefined : { cls: 'B' }
    if (c === '0' && !/[0-9]/.test(source[i] ?? '')) return 0
    if (/[0-9]/.test(c)) return undefined // back-reference or legacy octal
    if (c === 'x') {
      const m = /^[0-9a-fA-F]{2}/.exec(source.slice(i))
      if (!m) return undefined
      i += 2
      return parseInt(m[0], 16)
    }
    if (c === 'u') {
      const m = /^[0-9a-fA-F]{4}/.exec(source.slice(i))
      if (!m) return undefined
      i += 4
      return parseInt(m[0], 16)
    }
    if (c === 'c') {
      const l = source[i]
      if (!l || !/[A-Za-z]/.test(l)) return undefined
      i++
      return l.charCodeAt(0) % 32
    }
    if (c === 'k' || c === 'p' || c === 'P') return undefined
    return c.charCodeAt(0)
  }
  while (i < n) {
    const c = source.charAt(i)
    if (c === '\\') {
      i++
      const e = escapeAt(false)
      if (e === undefined) return undefined
      out += typeof e === 'number' ? hex4(t[e] ?? e) : '\\' + e.cls
    } else if (c === '[') {
      i++
      let negated = false
      if (source[i] === '^') {
        negated = true
        i++
      }
      const set = new Uint8Array(0x10000)
      const add = (lo: number, hi: number) => {
        for (let x = lo; x <= hi; x++) set[t[x] ?? x] = 1
      }
      const addEscape = (letter: string) => {
        const f = must(ESCAPE_SETS[letter.toLowerCase()], 'a class escape letter (d, w, s)')
        const neg = letter !== letter.toLowerCase()
        for (let x = 0; x < 0x10000; x++) if (f(x) !== neg) set[t[x] ?? x] = 1
      }
      const atom = (): number | { cls: string } | undefined => {
        const d = source[i]
        if (d === undefined) return undefined
        if (d === '\\') {
          i++
          return escapeAt(true)
        }
        i++
        return d.charCodeAt(0)
      }
      let closed = false
      while (i < n) {
        if (source[i] === ']') {
          i++
          closed = true
          break
        }
        const a = atom()
        if (a === undefined) return undefined
        if (source[i] === '-' && source[i + 1] !== undefined && source[i + 1] !== ']') {
          i++
          const b = atom()
          if (b === undefined) return undefined
          if (typeof a === 'number' && typeof b === 'number') {
            if (b < a) return undefined
            add(a, b)
          } else {
            // Annex B: a range with a class escape at either end is the two sets and a '-'.
            for (const x of [a, b]) {
              if (typeof x === 'number') add(x, x)
              else addEscape(x.cls)
            }
            add(45, 45)
          }
        } else if (typeof a === 'number') add(a, a)
        else addEscape(a.cls)
      }
      if (!closed) return undefined
      const body = classBody(set)
      // An empty class matches nothing ([] in JavaScript); its negation anything.
      out += body === '' ? (negated ? '[^]' : '[]') : `[${negated ? '^' : ''}${body}]`
    } else if (c === '(') {
      i++
      if (source[i] === '?') {
        const m = /^\?(:|=|!|<=|<!|<[A-Za-z_$][A-Za-z0-9_$]*>)/.exec(source.slice(i))
        if (!m) return undefined
        out += '(' + m[0]
        i += m[0].length
      } else out += '('
    } else if (c === '{') {
      const m = /^\{\d+(,\d*)?\}/.exec(source.slice(i))
      if (m) {
        out += m[0]
        i += m[0].length
      } else {
        out += hex4(123)
        i++
      }
    } else if ('^$.|)*+?'.includes(c)) {
      out += c
      i++
    } else {
      out += hex4(t[c.charCodeAt(0)] ?? c.charCodeAt(0))
      i++
    }
  }
  return out
}
