/**
 * A user's `--pipeline FILE`, as the verifiers read it. A pipeline is the user's statement about
 * their own environment (field names, and where a log source's events are found), so each verifier
 * takes the parts that describe events from it, with its own small reader; nothing here comes from
 * src/backends. A file that cannot be read is the backend's diagnostic to give (it compiles
 * first); here it is only "no pipeline data".
 */
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { errorMessage } from '../guards.js'

export type PipelineDoc = Readonly<Record<string, unknown>>

const cache = new Map<string, PipelineDoc | string>()

export const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** The pipeline file as a YAML map, or a message saying why it is not one. */
export function readPipeline(file: string): PipelineDoc | string {
  let doc = cache.get(file)
  if (doc === undefined) {
    try {
      const v: unknown = yaml.load(readFileSync(file, 'utf8'))
      doc = v === undefined || v === null ? {} : isMap(v) ? v : `${file}: a pipeline file is a YAML map`
    } catch (e) {
      doc = `${file}: cannot read the pipeline file: ${errorMessage(e).split('\n')[0]}`
    }
    cache.set(file, doc)
  }
  return doc
}

/** A `{ name: string }` map from a YAML value; non-string values are left out. */
export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (isMap(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x
  return out
}

/** The pipeline's log sources: name → { match, rest }. */
export function pipelineLogSources(
  doc: PipelineDoc,
): { readonly name: string; readonly match: Record<string, string>; readonly entry: Record<string, unknown> }[] {
  const ls = doc['logsources']
  if (!isMap(ls)) return []
  return Object.entries(ls).flatMap(([name, entry]) =>
    isMap(entry) ? [{ name, match: stringMap(entry['match']), entry }] : [],
  )
}
