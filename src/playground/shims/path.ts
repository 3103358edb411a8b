/** The browser's `node:path`: POSIX paths over the embedded file system (shims/fs.ts). */
export const sep = '/'

export function normalize(path: string): string {
  const absolute = path.startsWith('/')
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop()
      else if (!absolute) out.push('..')
    } else out.push(part)
  }
  const joined = out.join('/')
  return absolute ? '/' + joined : joined || '.'
}

export const join = (...parts: string[]): string => normalize(parts.filter((p) => p !== '').join('/'))
export const isAbsolute = (path: string): boolean => path.startsWith('/')
export const resolve = (...parts: string[]): string => {
  let path = ''
  for (const p of parts) path = isAbsolute(p) ? p : path ? `${path}/${p}` : p
  return normalize(isAbsolute(path) ? path : '/' + path)
}
export function dirname(path: string): string {
  const n = normalize(path)
  const i = n.lastIndexOf('/')
  return i < 0 ? '.' : i === 0 ? '/' : n.slice(0, i)
}
export function basename(path: string, ext?: string): string {
  const base = normalize(path).split('/').pop() ?? ''
  return ext && base.endsWith(ext) ? base.slice(0, -ext.length) : base
}
export function extname(path: string): string {
  const base = basename(path)
  const i = base.lastIndexOf('.')
  return i > 0 ? base.slice(i) : ''
}
export function relative(from: string, to: string): string {
  const a = resolve(from).split('/').filter(Boolean)
  const b = resolve(to).split('/').filter(Boolean)
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/')
}

export default { sep, normalize, join, isAbsolute, resolve, dirname, basename, extname, relative }
