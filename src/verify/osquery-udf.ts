/**
 * The SQL functions osquery registers on its SQLite connection, re-implemented in JavaScript as
 * osquery's source defines them (osquery/sql/sqlite_string.cpp, sqlite_network.cpp), so that the
 * emitted SQL runs in real SQLite (sql.js) with osquery's meaning.
 */
import type { Database, SqlValue } from 'sql.js'
import { boundedRegex, type BoundedRegex } from '../bounded-regex.js'
import { first, itemAt, must } from '../guards.js'

/** osquery's hidden flag --regex_max_size (bytes). */
const REGEX_MAX_SIZE = 256

// C locale isspace(): what std::regex's \s means for char (std::regex_traits<char>, classic locale).
const C_SPACE = '\\t\\n\\v\\f\\r '

const compiled = new Map<string, BoundedRegex>()

/**
 * std::regex with the default ECMAScript grammar over a std::string: it matches BYTES. We run a
 * JavaScript RegExp (no flags) over a "binary string" (one UTF-16 unit per UTF-8 byte), so `.` or
 * `[^a]` consume one byte as in osquery. `\s`/`\S` are narrowed to the C locale's ASCII white space.
 * Constructs std::regex rejects (lookbehind, named groups, a `{` that is not a repeat) are errors,
 * as "Invalid regex" is in osquery. std::regex backtracks without bound; here the pattern runs in
 * V8's linear-time engine when it can, else under a time budget whose end fails the query with a
 * message naming the pattern (src/bounded-regex.ts), never a silent "no match".
 */
function compile(pattern: string): BoundedRegex {
  let re = compiled.get(pattern)
  if (re) return re
  if (Buffer.byteLength(pattern, 'utf8') > REGEX_MAX_SIZE)
    throw new Error(`Invalid regex: longer than ${REGEX_MAX_SIZE} bytes`)
  if (/\(\?<|\(\?[a-zA-Z]/.test(pattern)) throw new Error('Invalid regex: unsupported group syntax')
  let bytes = ''
  let inClass = false
  const src = Buffer.from(pattern, 'utf8').toString('latin1')
  for (let i = 0; i < src.length; i++) {
    const c = itemAt(src, i)
    if (c === '\\') {
      const d = src[i + 1] ?? ''
      if (d === 's') bytes += inClass ? C_SPACE : `[${C_SPACE}]`
      else if (d === 'S' && !inClass) bytes += `[^${C_SPACE}]`
      else bytes += c + d
      i++
      continue
    }
    if (!inClass && c === '{' && !/^\{[0-9]+(,[0-9]*)?\}/.test(src.slice(i)))
      throw new Error('Invalid regex: bad repeat')
    if (c === '[' && !inClass) {
      inClass = true
      bytes += c
      if (src[i + 1] === '^') bytes += src[++i]
      if (src[i + 1] === ']') bytes += '\\' + src[++i]
      continue
    }
    if (c === ']' && inClass) inClass = false
    bytes += c
  }
  try {
    re = boundedRegex(bytes, '')
  } catch {
    throw new Error('Invalid regex')
  }
  compiled.set(pattern, re)
  return re
}

const textOf = (v: SqlValue): string => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v))
const toBytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')
const fromBytes = (b: string): string => Buffer.from(b, 'latin1').toString('utf8')

/** regex_match(input, pattern, index): std::regex_search (unanchored); submatch `index` or NULL. */
export function regex_match(input: SqlValue, pattern: SqlValue, index: SqlValue): string | null {
  if (input === null || pattern === null || index === null) return null
  const m = compile(textOf(pattern)).exec(toBytes(textOf(input)))
  if (!m) return null
  const i = Math.trunc(Number(index))
  if (!(i >= 0 && i < m.length)) return null
  return fromBytes(m[i] ?? '')
}

/** regex_split(input, pattern, index): the pieces between matches (empty pieces dropped, as osquery does). */
export function regex_split(input: SqlValue, pattern: SqlValue, index: SqlValue): string | null {
  if (input === null || pattern === null || index === null) return null
  const pieces = compile(textOf(pattern))
    .split(toBytes(textOf(input)))
    .filter((p) => p !== '')
  const i = Math.trunc(Number(index))
  return i >= 0 && i < pieces.length ? fromBytes(itemAt(pieces, i)) : null
}

/** inet_pton(AF_INET): four decimal octets, no leading zeros (what Boost's make_address calls). */
function ipv4(text: string): bigint | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) return undefined
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n)
}

function ipv6(text: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined
  let head = text
  let tail: bigint | undefined
  if (text.includes('.')) {
    const at = text.lastIndexOf(':')
    tail = ipv4(text.slice(at + 1))
    if (tail === undefined) return undefined
    head = text.slice(0, at + 1) + '0:0'
  }
  const halves = head.split('::')
  if (halves.length > 2) return undefined
  const groups = (s: string) => (s === '' ? [] : s.split(':'))
  const left = groups(first(halves)),
    right = halves.length === 2 ? groups(itemAt(halves, 1)) : []
  const n = left.length + right.length
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined
  let v = 0n
  for (const g of [...left, ...Array<string>(8 - n).fill('0'), ...right]) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined
    v = (v << 16n) | BigInt(parseInt(g, 16))
  }
  return tail === undefined ? v : (v & ~0xffffffffn) | tail
}

/** make_network_vN("addr/len"): a slash, then only digits, a prefix within the family's width. */
function network(cidr: string, bits: 32 | 128): { base: bigint; prefix: number } | undefined {
  const slash = cidr.indexOf('/')
  if (slash < 0 || slash === cidr.length - 1 || !/^[0-9]+$/.test(cidr.slice(slash + 1))) return undefined
  const base = bits === 32 ? ipv4(cidr.slice(0, slash)) : ipv6(cidr.slice(0, slash))
  const prefix = Number(cidr.slice(slash + 1))
  if (base === undefined || prefix > bits) return undefined
  return { base, prefix }
}

/**
 * in_cidr_block(cidr, ip) → 1/0, or an error (which fails the whole query) for a non-text argument
 * or an address or network that does not parse. Membership is Boost's `hosts()` range: for IPv4
 * [network+1, broadcast) unless the prefix is 32 (then the address itself); for IPv6 the whole
 * network. osquery/sql/sqlite_network.cpp; boost/asio/ip/impl/network_v4.ipp, network_v6.ipp.
 */
export function in_cidr_block(cidr: SqlValue, ip: SqlValue): number {
  if (typeof cidr !== 'string') throw new Error('CIDR must be a string')
  if (typeof ip !== 'string') throw new Error('IP address must be a string')
  const v4 = ipv4(ip)
  const v6 = v4 === undefined ? ipv6(ip) : undefined
  if (v4 === undefined && v6 === undefined) throw new Error('IP address cannot be parsed')
  const bits = v4 !== undefined ? 32 : 128
  const addr = must(v4 ?? v6, 'one of the two parses (checked above)')
  const net = network(cidr, bits)
  if (!net) throw new Error(`CIDR for IP address v${bits === 32 ? 4 : 6} cannot be parsed`)
  const mask = net.prefix === 0 ? 0n : ((1n << BigInt(net.prefix)) - 1n) << BigInt(bits - net.prefix)
  const first = net.base & mask
  const last = first | (((1n << BigInt(bits)) - 1n) & ~mask)
  let lo: bigint, hi: bigint // [lo, hi)
  if (net.prefix === bits) [lo, hi] = [net.base, net.base + 1n]
  else if (bits === 32) [lo, hi] = [first + 1n, last]
  else [lo, hi] = [first, last + 1n]
  return addr >= lo && addr < hi ? 1 : 0
}

/** split(input, tokens, index): split on any character of `tokens`, empty pieces dropped. */
export function split(input: SqlValue, tokens: SqlValue, index: SqlValue): string | null {
  if (input === null || tokens === null || index === null) return null
  const set = new Set(textOf(tokens))
  if (set.size === 0) throw new Error('Invalid input to split function')
  const pieces: string[] = []
  let cur = ''
  for (const ch of textOf(input)) {
    if (set.has(ch)) {
      if (cur !== '') pieces.push(cur)
      cur = ''
    } else cur += ch
  }
  if (cur !== '') pieces.push(cur)
  const i = Math.trunc(Number(index))
  return i >= 0 && i < pieces.length ? itemAt(pieces, i) : null
}

export function registerOsqueryFunctions(db: Database): void {
  db.create_function('regex_match', regex_match)
  db.create_function('regex_split', regex_split)
  db.create_function('in_cidr_block', in_cidr_block)
  db.create_function('split', split)
}
