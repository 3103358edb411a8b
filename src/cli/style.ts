/** Terminal styling: colours only on a terminal, and never with NO_COLOR (no-color.org). */

export function useColour(stream: NodeJS.WriteStream): boolean {
  if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return false
  if (process.env['FORCE_COLOR'] !== undefined && process.env['FORCE_COLOR'] !== '0') return true
  return stream.isTTY === true
}

const wrap = (open: number, close: number) => (on: boolean, s: string) =>
  on ? `\u001b[${open}m${s}\u001b[${close}m` : s
export const red = wrap(31, 39)
export const yellow = wrap(33, 39)
export const green = wrap(32, 39)
export const bold = wrap(1, 22)
export const dim = wrap(2, 22)
