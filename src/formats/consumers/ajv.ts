/**
 * One place that compiles the consumers' schemas with ajv, once each, and words their errors.
 * Used by tests and bench/consumer-schemas.mjs only: nothing on the CLI's path imports it.
 */
import AjvModule, { type ValidateFunction } from 'ajv'

export interface Violation {
  /** Where in the checked document (a JSON pointer, a stanza, a line). */
  readonly path: string
  readonly message: string
}

// ajv is CommonJS; under NodeNext its default export is the module object, the class its `default`.
const Ajv = AjvModule.default
let ajv: InstanceType<typeof Ajv> | undefined
const compiled = new Map<string, ValidateFunction>()

export function ajvValidator(name: string, schema: object): (doc: unknown) => Violation[] {
  let validate = compiled.get(name)
  if (!validate) {
    ajv ??= new Ajv({ allErrors: true, strict: false })
    validate = ajv.compile(schema)
    compiled.set(name, validate)
  }
  const fn = validate
  return (doc) =>
    fn(doc)
      ? []
      : (fn.errors ?? []).map((e) => ({
          path: e.instancePath,
          message: `${e.message ?? 'invalid'}${'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`,
        }))
}

/**
 * The schema's check as a typed guard: a document it accepts is the `T` its caller reads it as (the
 * schema and the type are kept in step by review; the check itself runs on every document). What
 * it rejects is pushed onto `violations`.
 */
export function ajvGuard<T>(name: string, schema: object): (doc: unknown, violations: Violation[]) => doc is T {
  const check = ajvValidator(name, schema)
  return (doc, violations): doc is T => {
    const found = check(doc)
    violations.push(...found)
    return found.length === 0
  }
}
