/**
 * The KQL gate's record of accepted queries (src/verify/kql-gate-cache.ts): used when it holds the
 * query's exact digest, ignored when a line is corrupt or the file is not ours alone, never written
 * for a rejected query.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cacheDir, checkKqlOnce, gateKey, resetGateCache } from '../../src/verify/kql-gate-cache.js'

const GOOD = 'DeviceProcessEvents\n| where FileName =~ "gate-cache.exe"'
const BAD = 'DeviceProcessEvents\n| where NoSuchColumn == "gate-cache"'

let dir: string
let saved: string | undefined
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rulesmith-gate-cache-'))
  saved = process.env['RULESMITH_CACHE_DIR']
  process.env['RULESMITH_CACHE_DIR'] = dir
  resetGateCache()
})
afterEach(() => {
  if (saved === undefined) delete process.env['RULESMITH_CACHE_DIR']
  else process.env['RULESMITH_CACHE_DIR'] = saved
  resetGateCache()
  rmSync(dir, { recursive: true, force: true })
})
const record = () => join(dir, 'kql-gate-passed')
/** Write the record as a fresh process would find it. */
const forge = (text: string, mode = 0o600) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(record(), text, { mode })
  chmodSync(record(), mode)
  resetGateCache()
}

describe('the record of accepted queries', () => {
  test('an accepted query is recorded as its digest, once', async () => {
    expect(await checkKqlOnce(GOOD, 'defender')).toEqual([])
    expect(await checkKqlOnce(GOOD, 'defender')).toEqual([])
    resetGateCache()
    expect(await checkKqlOnce(GOOD, 'defender')).toEqual([])
    expect(readFileSync(record(), 'utf8')).toBe(gateKey(GOOD, 'defender') + '\n')
  })

  test('a rejected query is never recorded: its errors come from the parser every time', async () => {
    expect((await checkKqlOnce(BAD, 'defender'))[0]!.message).toContain('NoSuchColumn')
    expect(existsSync(record())).toBe(false)
    await checkKqlOnce(GOOD, 'defender')
    expect(readFileSync(record(), 'utf8')).not.toContain(gateKey(BAD, 'defender'))
  })

  test('the exact digest is trusted; a corrupt line is a miss and the parser runs', async () => {
    const key = gateKey(BAD, 'defender')!
    // The record is what decides: the digest of the bad query, forged, lets it through …
    forge(key + '\n')
    expect(await checkKqlOnce(BAD, 'defender')).toEqual([])
    // … and any damage to that line does not.
    const flipped = key.slice(0, 10) + (key[10] === '0' ? '1' : '0') + key.slice(11)
    for (const damaged of [key.slice(0, 63), flipped, key + '0', key.toUpperCase(), ` ${key}`, key.slice(1) + '\n']) {
      forge(damaged + '\n')
      expect((await checkKqlOnce(BAD, 'defender')).length, JSON.stringify(damaged)).toBeGreaterThan(0)
    }
  })

  test('a record others can write to is not read', async () => {
    forge(gateKey(BAD, 'defender')! + '\n', 0o666)
    expect((await checkKqlOnce(BAD, 'defender')).length).toBeGreaterThan(0)
  })

  test('the digest changes with the query and the schema family; an unknown family is never cached', () => {
    const defender = gateKey(GOOD, 'defender')
    expect(defender).toMatch(/^[0-9a-f]{64}$/)
    expect(gateKey(GOOD, 'sentinel')).not.toBe(defender)
    expect(gateKey(GOOD + ' ', 'defender')).not.toBe(defender)
    expect(gateKey(GOOD, 'nope')).toBeUndefined()
  })

  test('RULESMITH_CACHE_DIR= (empty) turns the record off', async () => {
    process.env['RULESMITH_CACHE_DIR'] = ''
    resetGateCache()
    expect(await checkKqlOnce(GOOD, 'defender')).toEqual([])
    expect(existsSync(record())).toBe(false)
  })
})

test('the cache folder: RULESMITH_CACHE_DIR, then an absolute XDG_CACHE_HOME, then ~/.cache', () => {
  expect(cacheDir({ RULESMITH_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c')
  expect(cacheDir({ RULESMITH_CACHE_DIR: '', HOME: '/h' })).toBeUndefined()
  expect(cacheDir({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe(join('/x', 'rulesmith'))
  expect(cacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/h' })).toBe(join('/h', '.cache', 'rulesmith'))
})
