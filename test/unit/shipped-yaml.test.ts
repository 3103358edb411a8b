/**
 * The shipped YAML parsed once per content (src/shipped-yaml.ts): the copy in the cache folder
 * gives exactly what js-yaml gives, and a copy that is damaged, not ours, or open to others is not
 * used.
 */
import { afterEach, beforeEach, expect, test } from 'vitest'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import yaml from 'js-yaml'
import { shippedYaml } from '../../src/shipped-yaml.js'

let dir: string
let env: NodeJS.ProcessEnv
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rulesmith-shipped-yaml-'))
  env = { RULESMITH_CACHE_DIR: dir }
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const copies = () => readdirSync(dir).filter((n) => n.startsWith('yaml-'))
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** Every YAML file under targets/. */
function shipped(): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(d, e.name))
      else if (e.name.endsWith('.yml')) out.push(join(d, e.name))
  }
  walk('targets')
  return out
}

test("every shipped file's copy gives what js-yaml gives, key order included", () => {
  const files = shipped()
  expect(files.length).toBeGreaterThan(8)
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    const parsed = JSON.stringify(yaml.load(text))
    expect(JSON.stringify(shippedYaml(text, env)), f).toBe(parsed) // parsed, copy written
    expect(JSON.stringify(shippedYaml(text, env)), f).toBe(parsed) // from the copy
  }
  expect(copies().length).toBe(new Set(files.map((f) => readFileSync(f, 'utf8'))).size)
})

test('the copy is what is read; a damaged, foreign or open one is not', () => {
  const text = 'a: 1\nb: [x, y]\n'
  shippedYaml(text, env)
  const [name] = copies()
  const file = join(dir, name!)
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>
  // A consistent copy is trusted as the folder's owner wrote it: it is what is returned …
  const forge = (json: string, sha = sha256(json), extra: object = {}) =>
    writeFileSync(file, JSON.stringify({ ...stored, json, sha256: sha, ...extra }), { mode: 0o600 })
  forge('{"a":2}')
  expect(shippedYaml(text, env)).toEqual({ a: 2 })
  // … and any damage, another key, or a copy others may write is not: the text is parsed.
  const parsed = { a: 1, b: ['x', 'y'] }
  forge('{"a":2}', sha256('{"a":1}'))
  expect(shippedYaml(text, env)).toEqual(parsed)
  forge('{"a":2}', undefined, { key: '0'.repeat(64) })
  expect(shippedYaml(text, env)).toEqual(parsed)
  writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40))
  expect(shippedYaml(text, env)).toEqual(parsed)
  forge('{"a":2}')
  chmodSync(file, 0o620)
  expect(shippedYaml(text, env)).toEqual(parsed)
  // (A copy that is not used is written afresh from the parse.)
  expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ json: JSON.stringify(parsed) })
  forge('{"a":2}')
  chmodSync(dir, 0o777)
  expect(shippedYaml(text, env)).toEqual(parsed)
  chmodSync(dir, 0o700)
  expect(shippedYaml(text, env)).toEqual({ a: 2 })
})

test('a value JSON does not give back is not copied; no cache folder, no copy', () => {
  for (const text of ['when: 2024-01-02\n', 'x: -0.0\n', 'x: .inf\n', 'x: !!binary aGk=\n']) {
    expect(shippedYaml(text, env)).toEqual(yaml.load(text))
  }
  expect(copies()).toEqual([])
  expect(shippedYaml('a: 1\n', { RULESMITH_CACHE_DIR: '' })).toEqual({ a: 1 })
  expect(copies()).toEqual([])
})
