/**
 * Adversarial sample events, generated from a rule's AST: for every field the rule reads, values
 * that match, values that almost match (case variants, one character more or less, wildcard
 * characters taken literally, quotes, backslashes, non-ASCII look-alikes), empty and missing
 * values — combined so that each predicate is tried both ways under the others. Given the rule's
 * log source, the same events also come from neighbouring log sources (another event id of the
 * same channel, the same event id in another channel, another category of the same product), so
 * the log-source half of a query is tried too. The equivalence runs feed them to the reference
 * evaluator and to every target's verifier, and `rulesmith verify` checks a query on them.
 */
import { fieldsOf, type Node, type Pattern, type RegexFlags } from '../ast/nodes.js'
import { evaluate } from '../evaluate/evaluate.js'
import { ORIGIN_KEY } from '../origin.js'
import type { JsonEvent, LogSource } from '../rule/rule.js'
import { parseCidr } from '../evaluate/cidr.js'
import { regexSamples, spread, swapCase, wildcardSamples } from './pattern-samples.js'
import { entryOf, first, itemAt, mustGet } from '../guards.js'

/** A small deterministic PRNG (mulberry32): the same rule always gets the same events. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const MISSING = Symbol('missing')
type Value = string | number | boolean | null | typeof MISSING

/** Fill a pattern's wildcards: `*` with `fill`, `?` with one character. */
function instantiate(pattern: Pattern, fill: string, one: string): string {
  return pattern.map((s) => (s.kind === 'lit' ? s.text : s.kind === 'any' ? fill : one)).join('')
}

function variantsOfText(base: string): string[] {
  const out = [
    base,
    base.toUpperCase(),
    base.toLowerCase(),
    swapCase(base),
    base + 'x',
    'x' + base,
    base.slice(1),
    base.slice(0, -1),
    ` ${base} `,
  ]
  if (base.length > 2) out.push(base.slice(0, 1) + base.slice(2)) // one character dropped inside
  // Non-ASCII look-alikes: an accented letter in place of an ASCII one, and its case pair.
  out.push(base.replace(/e/i, 'é'), base.replace(/e/i, 'É'))
  out.push(...troublesome(base))
  return out
}

/**
 * The characters case folding disagrees on between engines (docs/semantics.md, "Case folding"):
 * each replaces the letters it stands in for, one kind at a time, so a value that differs only by
 * it is tried. Kelvin sign K (U+212A) and Ångström sign Å (U+212B), long s ſ, dotted İ and dotless ı,
 * ß/ẞ, σ/ς/Σ, Greek and Cyrillic look-alikes, a combining acute accent, full-width letters.
 */
const TROUBLESOME: ReadonlyArray<readonly [RegExp, string | ((c: string) => string)]> = [
  [/k/gi, '\u212a'],
  [/a/gi, '\u212b'],
  [/s/gi, '\u017f'],
  [/i/g, '\u0130'],
  [/I/g, '\u0131'],
  [/ss/gi, '\u00df'],
  [/\u00df/g, '\u1e9e'],
  [/\u1e9e/g, '\u00df'],
  [/\u03c3/g, '\u03c2'],
  [/\u03c2/g, '\u03a3'],
  [/o/gi, '\u03bf'],
  [/e/gi, '\u0435'],
  [/c/gi, '\u0441'],
  [/e/i, 'e\u0301'],
  [/[a-z]/i, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)],
]

function troublesome(base: string): string[] {
  const out: string[] = []
  for (const [re, by] of TROUBLESOME) {
    re.lastIndex = 0
    if (!re.test(base)) continue
    re.lastIndex = 0
    out.push(typeof by === 'string' ? base.replace(re, by) : base.replace(re, by))
  }
  return out
}

function valuesForPattern(pattern: Pattern, perPattern: number): string[] {
  // Hits and just-misses of the pattern itself first, then text that breaks translations.
  const out = new Set<string>(wildcardSamples(pattern, perPattern))
  for (const fill of ['', 'zz', '*', '?', '\\', '"', "'", '%', '_']) {
    for (const one of ['y', '?', '*', 'É', '😀']) out.add(instantiate(pattern, fill, one))
  }
  const plain = instantiate(pattern, 'q', 'w')
  for (const v of variantsOfText(plain)) out.add(v)
  // Wildcard characters taken literally, and escapes seen raw.
  out.add(pattern.map((s) => (s.kind === 'lit' ? s.text : s.kind === 'any' ? '*' : '?')).join(''))
  out.add(plain.replace(/\\/g, '\\\\'))
  out.add(plain.replace(/\\/g, '/'))
  out.add(plain + '\n' + plain)
  return [...out]
}

function valuesForRegex(source: string, flags: RegexFlags, perPattern: number): string[] {
  // Strings generated from the expression's tree (each branch, each bound, each atom missed), then
  // literal runs of the expression, case-flipped and with neighbours.
  const literals = source
    .replace(/\\[dswDSW]/g, ' ')
    .split(/[\\^$.*+?()[\]{}|]+/)
    .filter((s) => s.length > 1)
  const out = new Set<string>(regexSamples(source, flags, perPattern))
  for (const v of ['', 'abc', 'ABC', '0', 'a\nb']) out.add(v)
  for (const l of literals.slice(0, 4)) for (const v of variantsOfText(l)) out.add(v)
  if (literals.length > 1) out.add(literals.join(''))
  return [...out]
}

function valuesForCidr(cidr: string): string[] {
  const c = parseCidr(cidr)
  if (!c) return ['10.0.0.1']
  if (c.family === 4) {
    const n = Number(c.network)
    const ip = (x: number) => [24, 16, 8, 0].map((b) => (x >>> b) & 255).join('.')
    const size = 2 ** (32 - c.prefix)
    return [
      ip(n),
      ip(n + size - 1),
      ip((n + size) >>> 0),
      ip((n - 1) >>> 0),
      `0${ip(n)}`,
      '::ffff:' + ip(n),
      'not an ip',
      '',
    ]
  }
  return ['::1', 'fe80::1', '2001:db8::1', 'FE80::ABCD', '10.0.0.1', 'fe80::1%eth0', '']
}

/**
 * Candidate values for each field the node reads, in groups: the values every field gets (missing,
 * null, empty), then one group per predicate on the field, most telling value first.
 */
function candidates(node: Node, perPattern: number, out = new Map<string, Value[][]>()): Map<string, Value[][]> {
  const add = (field: string, values: Iterable<Value>) => {
    const groups = out.get(field) ?? [[MISSING, null, '']]
    groups.push([...values])
    out.set(field, groups)
  }
  switch (node.kind) {
    case 'And':
    case 'Or':
      node.items.forEach((n) => candidates(n, perPattern, out))
      break
    case 'Not':
      candidates(node.item, perPattern, out)
      break
    case 'Match': {
      const values: Value[] = valuesForPattern(node.pattern, perPattern)
      const lit = instantiate(node.pattern, '', '')
      if (/^-?\d+$/.test(lit)) values.push(Number(lit), Number(lit) + 1)
      if (lit === 'true' || lit === 'false') values.push(lit === 'true', lit !== 'true')
      add(node.field, values)
      break
    }
    case 'Regex':
      add(node.field, valuesForRegex(node.source, node.flags, perPattern))
      break
    case 'Cidr':
      add(node.field, valuesForCidr(node.cidr))
      break
    case 'Compare':
      add(node.field, [node.value, node.value - 1, node.value + 1, String(node.value), 'NaN', `${node.value}.5`])
      break
    case 'Exists':
    case 'Null':
      add(node.field, ['x'])
      break
    case 'FieldRef':
      add(node.field, ['same', 'SAME', 'other'])
      add(node.ref, ['same', 'Same', 'else'])
      break
    case 'Keyword': {
      // A field no target maps, and the text fields keyword rules are written against: a log
      // line's message (Sigma's `Message`, Syslog's SyslogMessage) and a web request's query (the
      // W3C access log's cs-uri-query). A target whose records have only their own columns takes
      // the latter two; the first shows what it does with a field it has no column for.
      const values = valuesForPattern(node.pattern, perPattern)
      for (const carrier of ['Keyword_Carrier', 'Message', 'cs-uri-query']) add(carrier, values)
      break
    }
  }
  return out
}

/** The groups' values taken in turn (first of each group, then second of each …), without repeats. */
function interleave<T>(groups: readonly (readonly T[])[]): T[] {
  const out: T[] = []
  const seen = new Set<T>()
  const longest = Math.max(0, ...groups.map((g) => g.length))
  for (let k = 0; k < longest; k++)
    for (const g of groups) {
      if (k >= g.length) continue
      const v = itemAt(g, k)
      if (!seen.has(v)) {
        seen.add(v)
        out.push(v)
      }
    }
  return out
}

/** One value per field that satisfies the first positive predicate on it, to build on. */
function baseline(node: Node, out: Record<string, Value> = {}): Record<string, Value> {
  switch (node.kind) {
    case 'And':
    case 'Or':
      node.items.forEach((n) => baseline(n, out))
      break
    case 'Not':
      break
    case 'Match':
      if (!(node.field in out)) out[node.field] = instantiate(node.pattern, 'q', 'w')
      break
    case 'Cidr':
      if (!(node.field in out)) out[node.field] = first(valuesForCidr(node.cidr))
      break
    case 'Regex':
      // The string generated from the regex with every choice at its default: usually a hit.
      if (!(node.field in out)) {
        const hit = regexSamples(node.source, node.flags, 1)[0]
        if (hit !== undefined) out[node.field] = hit
      }
      break
    case 'Compare':
      if (!(node.field in out)) out[node.field] = node.op.startsWith('g') ? node.value + 1 : node.value - 1
      break
    case 'Exists':
      if (!(node.field in out)) out[node.field] = 'x'
      break
    default:
      break
  }
  return out
}

/**
 * One baseline per branch of each OR (in rule order): the branch's own values over the main
 * baseline's, so a later branch (`selection_b` of `selection_a or selection_b`) also gets events
 * that satisfy it as a whole, not only the first.
 */
function branchBaselines(node: Node, main: Record<string, Value>, out: Record<string, Value>[] = []) {
  if (node.kind === 'Or') for (const item of node.items) out.push({ ...main, ...baseline(item) })
  if (node.kind === 'And' || node.kind === 'Or') node.items.forEach((n) => branchBaselines(n, main, out))
  return out
}

function toEvent(values: Record<string, Value>): JsonEvent {
  const e: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(values)) if (v !== MISSING) e[k] = v
  return e
}

const SYSMON = 'Microsoft-Windows-Sysmon/Operational'
/** Sysmon event ids of the Windows categories, and the channels of Windows services (Sigma taxonomy appendix). */
const WINDOWS_CATEGORY_IDS: Readonly<Record<string, [channel: string, id: number]>> = {
  process_creation: [SYSMON, 1],
  network_connection: [SYSMON, 3],
  image_load: [SYSMON, 7],
  file_event: [SYSMON, 11],
  registry_add: [SYSMON, 12],
  registry_set: [SYSMON, 13],
  dns_query: [SYSMON, 22],
  file_delete: [SYSMON, 23],
  ps_script: ['Microsoft-Windows-PowerShell/Operational', 4104],
  ps_module: ['Microsoft-Windows-PowerShell/Operational', 4103],
}
const WINDOWS_SERVICE_CHANNELS: Readonly<Record<string, string>> = {
  security: 'Security',
  system: 'System',
  application: 'Application',
  sysmon: SYSMON,
  powershell: 'Microsoft-Windows-PowerShell/Operational',
}
const SIBLINGS: Readonly<Record<string, readonly string[]>> = {
  process_creation: ['file_event', 'network_connection'],
  file_event: ['process_creation', 'file_delete'],
  network_connection: ['process_creation'],
  registry_set: ['registry_add', 'process_creation'],
  ps_script: ['ps_module', 'process_creation'],
}

/**
 * Origins next to a log source, none of them of it: each is an origin statement to put on an event
 * (raw Windows `Channel`/`EventID`, or `_logsource`).
 */
export function neighbourOrigins(ls: LogSource): Record<string, unknown>[] {
  const product = ls.product?.toLowerCase()
  const category = ls.category?.toLowerCase()
  const service = ls.service?.toLowerCase()
  const out: Record<string, unknown>[] = []
  // Neighbours are known only for the endpoint products; a cloud or network product's services
  // share one feed whose split the rule's own fields carry.
  if (product !== 'windows' && product !== 'linux' && product !== 'macos') return out
  const siblings = (category && SIBLINGS[category]) ?? (service ? ['process_creation'] : [])
  for (const c of siblings) out.push({ [ORIGIN_KEY]: { ...(product ? { product } : {}), category: c } })
  if (product !== 'windows') {
    if (service)
      out.push({ [ORIGIN_KEY]: { ...(product ? { product } : {}), service: service === 'syslog' ? 'auth' : 'syslog' } })
    return out
  }
  const raw = category ? WINDOWS_CATEGORY_IDS[category] : undefined
  if (raw) {
    // Another event of the same channel, and the same event id in another channel.
    out.push({ Channel: raw[0], EventID: raw[1] === 1 ? 5 : 1 })
    out.push({ Channel: raw[0] === 'Security' ? 'System' : 'Application', EventID: raw[1] })
  }
  const channel = service ? WINDOWS_SERVICE_CHANNELS[service] : undefined
  if (channel) {
    out.push({ Channel: channel === 'System' ? 'Application' : 'System' })
    out.push({ Channel: channel === 'Security' ? 'Microsoft-Windows-Sysmon/Operational' : 'Security' })
  }
  return out
}

/**
 * Raw records of a log source other than its first (the one an event stated only by the log
 * source is): a Windows process creation is also Security 4688, "A new process has been created"
 * (src/evaluate/logsource.ts).
 */
export function otherRecords(ls: LogSource): Record<string, unknown>[] {
  if (ls.product?.toLowerCase() !== 'windows' || ls.service !== undefined) return []
  return ls.category?.toLowerCase() === 'process_creation' ? [{ Channel: 'Security', EventID: 4688 }] : []
}

/**
 * `count` events for the node: one-field variations around a matching baseline, then random mixes;
 * with a log source, then a few of them (and of `samples`, e.g. a tests file's `match` events)
 * again from each neighbouring log source. With `otherRecords`, every event again as each other
 * record of the log source (a process creation as Security 4688), with Sigma's field names.
 */
export function adversarialEvents(
  node: Node,
  count = 120,
  seed = 1489,
  logsource?: LogSource,
  samples: readonly JsonEvent[] = [],
  options: { readonly otherRecords?: boolean } = {},
): JsonEvent[] {
  const own = ownEvents(node, count, seed)
  if (!logsource) return own
  const out = [...own]
  if (options.otherRecords)
    for (const origin of otherRecords(logsource))
      for (const e of own) {
        const { [ORIGIN_KEY]: _stated, Channel: _c, EventID: _i, Provider_Name: _p, ...fields } = e
        out.push({ ...fields, ...origin })
      }
  // Events the detection selects first: from a neighbouring log source they must not be selected.
  const selected = [
    ...samples.slice(0, 2),
    ...own.filter((e) => evaluate(node, e)),
    ...own.filter((e) => !evaluate(node, e)),
  ]
  for (const origin of neighbourOrigins(logsource))
    for (const e of selected.slice(0, 3)) {
      // A raw origin overrides the event's own Channel/EventID (and any explicit origin); an explicit
      // one replaces them (the record of another log source has that log source's channel and id).
      const { [ORIGIN_KEY]: _stated, ...raw } = e
      const { Channel: _c, EventID: _i, Provider_Name: _p, ...fields } = raw
      out.push(ORIGIN_KEY in origin ? { ...fields, ...origin } : { ...raw, ...origin })
    }
  return out
}

/**
 * How many strings are generated from one pattern: enough for every `?`, branch and bound of a
 * small pattern, spread over a large one; more when more events are asked for.
 */
const perPatternFor = (count: number): number => Math.max(24, Math.floor(count / 2))

function ownEvents(node: Node, count: number, seed: number): JsonEvent[] {
  const grouped = candidates(node, perPatternFor(count))
  const cands = new Map([...grouped].map(([f, groups]) => [f, interleave(groups)] as const))
  const fields = [...new Set([...fieldsOf(node), ...cands.keys()])].filter((f) => cands.has(f))
  const base = baseline(node)
  const events: JsonEvent[] = [toEvent(base)]
  const seen = new Set<string>([JSON.stringify(events[0])])
  const push = (e: JsonEvent) => {
    const k = JSON.stringify(e)
    if (!seen.has(k) && events.length < count) {
      seen.add(k)
      events.push(e)
    }
  }
  for (const b of spread(branchBaselines(node, base), Math.max(4, Math.floor(count / 6)))) push(toEvent(b))
  // One field varied at a time around the baseline, the fields taken in turn so that each gets its
  // most telling values within the count.
  const longest = Math.max(0, ...fields.map((f) => mustGet(cands, f).length))
  for (let k = 0; k < longest && events.length < count; k++)
    for (const f of fields) {
      const list = mustGet(cands, f)
      if (k < list.length) push(toEvent({ ...base, [f]: itemAt(list, k) }))
    }
  const rand = prng(seed)
  for (let tries = 0; events.length < count && tries < count * 20; tries++) {
    const values: Record<string, Value> = {}
    for (const f of fields) {
      const list = mustGet(cands, f)
      values[f] = rand() < 0.5 && f in base ? entryOf(base, f) : itemAt(list, Math.floor(rand() * list.length))
    }
    push(toEvent(values))
  }
  return events
}
