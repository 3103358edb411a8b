/**
 * Deterministic gzip (RFC 1952, https://www.rfc-editor.org/rfc/rfc1952#section-2.3): the header
 * is written here, not by zlib, so it never carries a timestamp, a file name or the build
 * machine's OS byte (zlib writes the host OS there). The body is raw deflate at a fixed level.
 */
import { deflateRawSync, constants } from 'node:zlib'
import { itemAt } from '../guards.js'

export function gzip(data: Uint8Array): Buffer {
  const header = Buffer.from([
    0x1f,
    0x8b, // magic
    0x08, // CM = deflate
    0x00, // FLG: no name, comment, extra or header CRC
    0x00,
    0x00,
    0x00,
    0x00, // MTIME = 0: "no time stamp is available"
    0x02, // XFL = 2: maximum compression
    0xff, // OS = 255: unknown, the same on every machine
  ])
  const body = deflateRawSync(data, { level: 9, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY })
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crc32(data), 0)
  trailer.writeUInt32LE(data.length >>> 0, 4) // ISIZE: length modulo 2^32
  return Buffer.concat([header, body, trailer])
}

let table: Uint32Array | undefined

/** CRC-32 as gzip defines it (polynomial 0xEDB88320, reflected). */
export function crc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      table[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (const b of data) crc = itemAt(table, (crc ^ b) & 0xff) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
