/**
 * How a YAML 1.1 reader (PyYAML, and so pySigma and SigmaHQ's own tooling) resolves a plain
 * scalar, for the few forms where that differs from YAML 1.2 (js-yaml's core schema, which
 * rulesmith uses): `010` is octal 8 there, `0x10` is 16, `yes`/`on` are booleans, `1_000` is 1000,
 * `1:30` is 90. The patterns are PyYAML's implicit resolvers (resolver.py), which follow the
 * YAML 1.1 type repository (https://yaml.org/type/int.html, bool.html, float.html).
 */

export type Yaml11Value = boolean | number | null

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/
const INT =
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/
const NULL = /^(?:~|null|Null|NULL|)$/

function sexagesimal(digits: string): number {
  return digits.split(':').reduce((n, part) => n * 60 + Number(part), 0)
}

/** The value a YAML 1.1 reader gives a plain scalar; undefined when it reads it as a string. */
export function readYaml11(text: string): Yaml11Value | undefined {
  if (NULL.test(text)) return null
  if (BOOL.test(text)) return /^(?:yes|true|on)$/i.test(text)
  if (INT.test(text)) {
    const sign = text.startsWith('-') ? -1 : 1
    const body = text.replace(/^[-+]/, '').replace(/_/g, '')
    if (body.startsWith('0b')) return sign * parseInt(body.slice(2), 2)
    if (body.startsWith('0x')) return sign * parseInt(body.slice(2), 16)
    if (body.includes(':')) return sign * sexagesimal(body)
    if (body.length > 1 && body.startsWith('0')) return sign * parseInt(body, 8)
    return sign * parseInt(body, 10)
  }
  if (FLOAT.test(text)) {
    const lower = text.toLowerCase()
    if (lower.endsWith('.inf')) return text.startsWith('-') ? -Infinity : Infinity
    if (lower === '.nan') return NaN
    const sign = text.startsWith('-') ? -1 : 1
    const body = text.replace(/^[-+]/, '').replace(/_/g, '')
    if (body.includes(':')) {
      const [whole = '', frac = ''] = body.split('.')
      return sign * (sexagesimal(whole) + Number(`0.${frac || '0'}`))
    }
    return sign * Number(body)
  }
  return undefined
}

/** How pySigma turns a scalar into the text it searches for: Python's `str()` of the value. */
export function pythonText(v: Yaml11Value): string {
  if (v === null) return 'None'
  if (typeof v === 'boolean') return v ? 'True' : 'False'
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  return String(v)
}
