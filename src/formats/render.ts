/**
 * Output formats: handlebars templates in `targets/<id>/formats/<name>.hbs` (or a user's own file)
 * that wrap a finished, escaped query. Templates never build predicates.
 *
 * Compiled with `noEscape` (handlebars HTML-escapes `{{…}}` by default, which would corrupt
 * queries) and `strict` (a misspelt variable is an error, not an empty string); both options are
 * documented on handlebarsjs.com's "compilation" API page.
 */
import { readdirSync, existsSync } from 'node:fs'
import { readInputFile } from '../input-file.js'
import { basename, join } from 'node:path'
import type HandlebarsModule from 'handlebars'
import type { Rule } from '../rule/rule.js'
import type { Pos } from '../ast/nodes.js'
import { targetPath } from '../paths.js'
import { errorMessage } from '../guards.js'
import { attackOf, type Attack } from './attack.js'
import { presentation } from './presentation.js'
import {
  armGuid,
  armText,
  confLine,
  confStanza,
  confValue,
  jsonText,
  oneLine,
  templateText,
  queryComment,
  UnsafeTextError,
  yamlText,
} from './escape.js'

export interface FormatVars {
  readonly rule: RuleVars
  readonly query: string
  readonly target: string
  /**
   * Target facts from the backend (table, index, category, platform …); renderFormat adds the
   * presentation values of the target's formats (severities, ATT&CK blocks, names: presentation.ts).
   */
  readonly context: Readonly<Record<string, unknown>>
}

export interface RuleVars {
  readonly id: string
  readonly title: string
  readonly name: string
  readonly description: string
  readonly author: string
  readonly date: string
  readonly modified: string
  readonly status: string
  readonly level: string
  readonly license: string
  readonly tags: readonly string[]
  readonly references: readonly string[]
  readonly falsepositives: readonly string[]
  readonly logsource: Readonly<Record<string, string>>
  readonly attack: Attack
  readonly file: string
  /** Version from the bundle's lock file; 1 outside a bundle. */
  readonly version: number
}

export function ruleVars(rule: Rule, version = 1): RuleVars {
  return {
    id: rule.id ?? '',
    title: rule.title,
    name: rule.name ?? '',
    description: rule.description ?? '',
    author: rule.author ?? '',
    date: rule.date ?? '',
    modified: rule.modified ?? rule.date ?? '',
    status: rule.status ?? '',
    level: rule.level ?? '',
    license: rule.license ?? '',
    tags: rule.tags,
    references: rule.references,
    falsepositives: rule.falsepositives,
    logsource: { ...rule.logsource } as Record<string, string>,
    attack: attackOf(rule.tags),
    file: rule.file,
    version,
  }
}

type Handlebars = typeof HandlebarsModule
type Helper = HandlebarsModule.HelperDelegate
let hb: Handlebars | undefined
/** Per template file: render it for a target (with the presentation values when it may read them). */
const compiled = new Map<string, (target: string, vars: FormatVars) => string>()

/**
 * rulesmith's helpers. Every helper that inserts text escapes it for one syntax
 * (src/formats/escape.ts); a template inserts rule metadata only through them.
 */
const HELPERS: ReadonlyArray<readonly [string, Helper]> = [
  // `{{json x}}`: a one-line JSON literal — safe inside JSON, NDJSON, YAML and .conf values.
  ['json', (v: unknown) => jsonText(v)],
  // `{{armText x}}`: a JSON string an ARM template does not read as an expression; `{{armGuid id}}` a UUID or a refusal.
  ['armText', (v: unknown) => armText(v)],
  ['armGuid', (v: unknown) => armGuid(v)],
  // `{{yamlText text 2}}`: a YAML scalar for multi-line text: a literal block indented by 2, or JSON.
  ['yamlText', (text: unknown, n: unknown) => yamlText(templateText(text), typeof n === 'number' ? n : 2)],
  // `{{indent text 4}}`: every line after the first indented (kept for users' templates).
  [
    'indent',
    (text: unknown, n: unknown) =>
      templateText(text)
        .split('\n')
        .join('\n' + ' '.repeat(typeof n === 'number' ? n : 2)),
  ],
  // `{{oneline text}}`: runs of white space and control characters (line breaks) folded to one space.
  ['oneline', (text: unknown) => oneLine(templateText(text))],
  // .conf files: `{{confLine text}}` display text (comments, descriptions), `{{confStanza text}}` a
  // stanza name, `{{confValue text "setting"}}` a value written exactly or refused.
  ['confLine', (text: unknown) => confLine(templateText(text))],
  ['confStanza', (text: unknown) => confStanza(templateText(text))],
  [
    'confValue',
    (text: unknown, setting: unknown) => confValue(templateText(text), typeof setting === 'string' ? setting : 'value'),
  ],
  // `{{comment text}}`: a comment line in the target's query language that the text cannot end early.
  [
    'comment',
    function (this: unknown, text: unknown, options: { data?: { root?: FormatVars } }) {
      return queryComment(options?.data?.root?.target ?? '', templateText(text))
    },
  ],
  [
    'join',
    (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : ''),
  ],
  ['eq', (a: unknown, b: unknown) => a === b],
  [
    'lookupOr',
    (obj: unknown, key: unknown, fallback: unknown) => {
      const v: unknown =
        obj && typeof obj === 'object' && (typeof key === 'string' || typeof key === 'number')
          ? Reflect.get(obj, String(key))
          : undefined
      return v ?? fallback
    },
  ],
]

/** Handlebars' own helpers that a template calls only by name (the two `…Missing` ones it calls itself). */
const NAMED_BUILTINS = ['each', 'if', 'unless', 'log', 'lookup', 'with'] as const

async function handlebars(): Promise<Handlebars> {
  hb ??= (await import('handlebars')).default
  return hb
}

/**
 * A handlebars environment for one template: rulesmith's helpers and handlebars' named ones that
 * the template's text mentions, and no other. Handlebars wraps every helper of the environment
 * anew at each render (runtime.js `_setup`): with all 21 that was about half of rendering a
 * `{{query}}`. A helper is called only by its name, so one the text does not mention is never
 * called; the template renders as it would with all of them.
 */
function environmentFor(h: Handlebars, text: string): Handlebars {
  const env = h.create()
  for (const name of NAMED_BUILTINS) if (!text.includes(name)) env.unregisterHelper(name)
  for (const [name, helper] of HELPERS) if (text.includes(name)) env.registerHelper(name, helper)
  return env
}

/**
 * Whether a template may read `context`, and so needs the presentation values (presentation.ts,
 * some 25 ms of CPU a target over SigmaHQ for severities, ATT&CK blocks and names). Not when its
 * text is only text, comments and `{{name.path}}` / `{{{name.path}}}` insertions of plain paths
 * (no `this`, `..`, `@data`, parameters, blocks or partials) none of which starts at `context` or
 * names a helper of its environment: such a template reads exactly the paths it names, as the
 * shipped `{{query}}` defaults do. Any other template, or one that does not parse (compiling
 * reports that), gets the presentation values.
 */
function readsContext(h: Handlebars, env: Handlebars, text: string): boolean {
  let program: hbs.AST.Program
  try {
    program = h.parse(text)
  } catch {
    return true
  }
  for (const statement of program.body) {
    if (statement.type === 'ContentStatement' || statement.type === 'CommentStatement') continue
    if (!isMustache(statement)) return true
    const path = statement.path
    if (statement.params.length > 0 || statement.hash !== undefined || !isPath(path)) return true
    const head = path.parts[0]
    if (path.data || path.depth !== 0 || head === undefined || head === 'context') return true
    if (Object.hasOwn(env.helpers, head)) return true
  }
  return false
}

const isMustache = (s: hbs.AST.Statement): s is hbs.AST.MustacheStatement => s.type === 'MustacheStatement'
const isPath = (e: hbs.AST.Expression): e is hbs.AST.PathExpression => e.type === 'PathExpression'

/** Names of the formats a target ships (file names in `targets/<id>/formats/` without `.hbs`). */
export function formatsOf(target: string): string[] {
  const dir = targetPath(target, 'formats')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hbs'))
    .map((f) => basename(f, '.hbs'))
    .sort()
}

/** A template that does not parse, or names a variable that does not exist: where, and why. */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly at: Pos,
    message: string,
  ) {
    super(message)
  }
}

/** Handlebars reports 1-based `lineNumber` and 0-based `column` on its exceptions. */
function templateError(file: string, e: unknown): TemplateError {
  const numberOf = (key: string): number | undefined => {
    const v: unknown = typeof e === 'object' && e !== null ? Reflect.get(e, key) : undefined
    return typeof v === 'number' ? v : undefined
  }
  const text = errorMessage(e)
  // A parse error: "Parse error on line N:", the source line, a caret, then "Expecting …, got …".
  const parse = /^Parse error on line (\d+):[\s\S]*\n(Expecting[^\n]*)/.exec(text)
  if (parse)
    return new TemplateError(file, { line: Number(parse[1]) - 1, col: 0 }, `template does not parse: ${parse[2]}`)
  // strict mode: `"name" not defined in [object Object] - 1:2`.
  const missing = /^"([^"]+)" not defined/.exec(text)
  const message = missing
    ? `template uses '${missing[1]}', which is not a variable here (see 'rulesmith compile --help')`
    : `template: ${text.split('\n')[0]}`
  return new TemplateError(
    file,
    { line: Math.max(0, (numberOf('lineNumber') ?? 1) - 1), col: Math.max(0, numberOf('column') ?? 0) },
    message,
  )
}

/**
 * Render with the target's named format, or with a template file given by path. A template that
 * does not parse or names an unknown variable throws a TemplateError with its position.
 */
export async function renderFormat(
  target: string,
  format: { name?: string; file?: string },
  vars: FormatVars,
): Promise<string> {
  const file = format.file ?? join(targetPath(target, 'formats'), `${format.name ?? 'default'}.hbs`)
  let fn = compiled.get(file)
  if (!fn) {
    const h = await handlebars()
    // A user's template is input: looked at before it is opened (no FIFO, no device), bounded.
    const read = readInputFile(file, 'template')
    if ('diagnostic' in read) throw new TemplateError(file, { line: 0, col: 0 }, read.diagnostic.message)
    const env = environmentFor(h, read.text)
    const template = env.compile<FormatVars>(read.text, { noEscape: true, strict: true })
    const presented = readsContext(h, env, read.text)
    fn = (t, v) => {
      const input = presented ? { ...v, context: { ...v.context, ...presentation(t, v.rule, v.context) } } : v
      try {
        return template(input)
      } catch (e) {
        if (e instanceof UnsafeTextError) throw e
        throw templateError(file, e)
      }
    }
    compiled.set(file, fn)
  }
  return fn(target, vars)
}
