/** IPv4 and IPv6 addresses and CIDR ranges, parsed strictly (no zone ids, no leading zeros in IPv4). */
import { first, itemAt } from '../guards.js'

/** The address as a bigint and its family, or undefined when the text is not an address. */
export function parseIp(text: string): { value: bigint; family: 4 | 6 } | undefined {
  const v4 = parseIpv4(text)
  if (v4 !== undefined) return { value: v4, family: 4 }
  const v6 = parseIpv6(text)
  if (v6 !== undefined) return { value: v6, family: 6 }
  return undefined
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0n
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    value = (value << 8n) | BigInt(n)
  }
  return value
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined
  let head = text
  let tail4: bigint | undefined
  const lastColon = text.lastIndexOf(':')
  if (text.includes('.')) {
    tail4 = parseIpv4(text.slice(lastColon + 1))
    if (tail4 === undefined) return undefined
    head = text.slice(0, lastColon + 1) + '0:0'
  }
  const halves = head.split('::')
  if (halves.length > 2) return undefined
  const groups = (s: string) => (s === '' ? [] : s.split(':'))
  const left = groups(first(halves))
  const right = halves.length === 2 ? groups(itemAt(halves, 1)) : []
  const total = left.length + right.length
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined
  const all = [...left, ...Array(8 - total).fill('0'), ...right]
  let value = 0n
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
    value = (value << 16n) | BigInt(parseInt(g, 16))
  }
  if (tail4 !== undefined) value = (value & ~0xffffffffn) | tail4
  return value
}

export interface Cidr {
  readonly family: 4 | 6
  readonly network: bigint
  readonly prefix: number
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/')
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash))
  if (!addr) return undefined
  const bits = addr.family === 4 ? 32 : 128
  let prefix = bits
  if (slash >= 0) {
    const p = text.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return undefined
    prefix = Number(p)
  }
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix)
  return { family: addr.family, network: addr.value & mask, prefix }
}

const cidrCache = new Map<string, Cidr | undefined>()

/** True when `ip` is an address of the same family inside `cidr`. */
export function ipInCidr(ip: string, cidr: string): boolean {
  let c = cidrCache.get(cidr)
  if (!cidrCache.has(cidr)) {
    c = parseCidr(cidr)
    cidrCache.set(cidr, c)
  }
  const a = parseIp(ip)
  if (!c || !a || a.family !== c.family) return false
  const bits = c.family === 4 ? 32 : 128
  const mask = c.prefix === 0 ? 0n : ((1n << BigInt(c.prefix)) - 1n) << BigInt(bits - c.prefix)
  return (a.value & mask) === c.network
}
