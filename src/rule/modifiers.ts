/**
 * The modifier table: every modifier rulesmith knows, what kind it is, and which it refuses.
 * A modifier not in this table is an error, never ignored.
 */

export type ModifierKind =
  | 'shape' // contains startswith endswith
  | 'list' // all
  | 'regex' // re
  | 'regex-flag' // i m s (only after re)
  | 'encoding' // base64 base64offset
  | 'utf16' // wide utf16le utf16be utf16
  | 'windash'
  | 'cidr'
  | 'exists'
  | 'fieldref'
  | 'compare' // gt gte lt lte
  | 'neq'
  | 'cased'
  | 'expand'
  | 'time' // minute hour day week month year: recognised, refused

export const MODIFIERS: Readonly<Record<string, ModifierKind>> = {
  contains: 'shape',
  startswith: 'shape',
  endswith: 'shape',
  all: 'list',
  re: 'regex',
  i: 'regex-flag',
  m: 'regex-flag',
  s: 'regex-flag',
  base64: 'encoding',
  base64offset: 'encoding',
  wide: 'utf16',
  utf16le: 'utf16',
  utf16be: 'utf16',
  utf16: 'utf16',
  windash: 'windash',
  cidr: 'cidr',
  exists: 'exists',
  fieldref: 'fieldref',
  gt: 'compare',
  gte: 'compare',
  lt: 'compare',
  lte: 'compare',
  neq: 'neq',
  cased: 'cased',
  expand: 'expand',
  minute: 'time',
  hour: 'time',
  day: 'time',
  week: 'time',
  month: 'time',
  year: 'time',
}

/** Modifiers that replace the value's meaning entirely: each stands alone (with the noted friends). */
export const EXCLUSIVE: Readonly<Record<string, readonly ModifierKind[]>> = {
  regex: ['regex-flag', 'list'],
  cidr: ['list'],
  exists: [],
  compare: ['list'],
  fieldref: ['neq', 'cased', 'list'],
}
