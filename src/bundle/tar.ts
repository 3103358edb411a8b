/**
 * A minimal, deterministic POSIX ustar writer: entries sorted by path, every header with the same
 * mtime (0), uid/gid (0), no user/group names, modes 0644 (files) and 0755 (folders). The layout
 * follows the ustar header of POSIX.1-2001 `pax` ("ustar Interchange Format"):
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
 */

export interface TarFile {
  /** Relative path with `/` separators, no leading `/`, no `..`. */
  readonly path: string
  readonly data: Uint8Array
}

const BLOCK = 512
/** GNU tar and bsdtar write 20-block records; padding to one keeps old readers happy. */
const RECORD = BLOCK * 20

export class TarPathError extends Error {}

/** The archive bytes for these files; parent folders get entries of their own. */
export function tar(files: readonly TarFile[]): Buffer {
  const entries = new Map<string, TarFile | undefined>()
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').some((p) => p === '..' || p === '' || p === '.'))
      throw new TarPathError(`bad path in archive: ${f.path}`)
    if (entries.has(f.path)) throw new TarPathError(`path twice in archive: ${f.path}`)
    entries.set(f.path, f)
    const parts = f.path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') + '/'
      if (!entries.has(dir)) entries.set(dir, undefined)
    }
  }
  // Byte order of UTF-8 paths, not locale order: the same on every machine.
  const paths = [...entries.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const chunks: Buffer[] = []
  for (const path of paths) {
    const file = entries.get(path)
    const data = file ? Buffer.from(file.data) : Buffer.alloc(0)
    chunks.push(header(path, data.length, file ? 'file' : 'dir'))
    if (data.length) {
      chunks.push(data)
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK
      if (pad) chunks.push(Buffer.alloc(pad))
    }
  }
  chunks.push(Buffer.alloc(BLOCK * 2)) // end of archive: two zero blocks
  const size = chunks.reduce((n, c) => n + c.length, 0)
  const pad = (RECORD - (size % RECORD)) % RECORD
  if (pad) chunks.push(Buffer.alloc(pad))
  return Buffer.concat(chunks)
}

function header(path: string, size: number, kind: 'file' | 'dir'): Buffer {
  const h = Buffer.alloc(BLOCK)
  const [prefix, name] = splitPath(path)
  h.write(name, 0, 100, 'utf8')
  octal(h, 100, 8, kind === 'dir' ? 0o755 : 0o644)
  octal(h, 108, 8, 0) // uid
  octal(h, 116, 8, 0) // gid
  octal(h, 124, 12, size)
  octal(h, 136, 12, 0) // mtime: fixed, so a rebuild is byte-identical
  h.fill(0x20, 148, 156) // checksum field counts as spaces while summing
  h.write(kind === 'dir' ? '5' : '0', 156, 1, 'latin1')
  h.write('ustar\u000000', 257, 8, 'latin1') // magic "ustar\0" + version "00"
  h.write(prefix, 345, 155, 'utf8')
  let sum = 0
  for (const b of h) sum += b
  // Six octal digits, NUL, space: the form every tar writes.
  h.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'latin1')
  return h
}

/** ustar keeps 100 bytes of name and 155 of prefix, split at a `/`. */
function splitPath(entry: string): [string, string] {
  if (Buffer.byteLength(entry) <= 100) return ['', entry]
  // A folder's trailing `/` is optional (typeflag 5 says it is a folder): drop it to make room.
  const path = entry.endsWith('/') ? entry.slice(0, -1) : entry
  const bytes = Buffer.byteLength(path)
  if (bytes <= 100) return ['', path]
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i),
      name = path.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return [prefix, name]
  }
  throw new TarPathError(`path too long for a ustar archive (${bytes} bytes): ${path}`)
}

function octal(h: Buffer, offset: number, width: number, value: number): void {
  const digits = value.toString(8).padStart(width - 1, '0')
  if (digits.length > width - 1) throw new TarPathError(`value ${value} does not fit a ${width}-byte tar field`)
  h.write(digits + '\u0000', offset, width, 'latin1')
}
