/**
 * Defender for Endpoint on Linux and macOS: process, file and network log sources on the same
 * Device* tables, with paths split on `/` by the field map's `separator` (never by a special case
 * in code). Backend text, the event mapping, equivalence on adversarial paths (0 mismatches), and
 * Microsoft's parser on every emitted query, the rule pack's Linux and macOS rules included.
 */
import { afterAll, describe, expect, test } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backend } from '../../src/backends/kql.js'
import { verifier } from '../../src/verify/kql.js'
import { checkKql } from '../../src/verify/kql-parser.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { kqlEnv, nameSuffix, resolveField, resolveLogsource } from '../../src/backends/kql-env.js'
import { kqlModel, placeEvent, type KqlModel } from '../../src/verify/kql-events.js'
import { logSourceStatement } from '../../src/origin.js'
import { loadPaths } from '../../src/rule/load.js'
import { ROOT } from '../support/cli.js'
import { and, not, or, type Node } from '../../src/ast/nodes.js'
import type { JsonEvent, LogSource } from '../../src/rule/rule.js'
import type { TargetOptions } from '../../src/backends/types.js'
import { contains, endswith, is, match, pat, rule, startswith, PROCESS } from './helpers.js'

const LINUX_PROCESS: LogSource = { product: 'linux', category: 'process_creation' }
const MACOS_PROCESS: LogSource = { product: 'macos', category: 'process_creation' }
const LINUX_FILE: LogSource = { product: 'linux', category: 'file_event' }
const MACOS_FILE: LogSource = { product: 'macos', category: 'file_event' }
const LINUX_NETWORK: LogSource = { product: 'linux', category: 'network_connection' }
const MACOS_NETWORK: LogSource = { product: 'macos', category: 'network_connection' }

const compile = (detection: Node, logsource: LogSource, options?: TargetOptions) =>
  backend.compile(rule(detection, logsource), options)
const where = (detection: Node, logsource: LogSource, options?: TargetOptions): string => {
  const c = compile(detection, logsource, options)
  expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([])
  return c
    .query!.split('\n')
    .at(-1)!
    .replace(/^\| where /, '')
}

describe('log sources', () => {
  test('Linux and macOS process, file and network events read the Defender Device* tables', () => {
    for (const [ls, table] of [
      [LINUX_PROCESS, 'DeviceProcessEvents'],
      [MACOS_PROCESS, 'DeviceProcessEvents'],
      [LINUX_FILE, 'DeviceFileEvents'],
      [MACOS_FILE, 'DeviceFileEvents'],
      [LINUX_NETWORK, 'DeviceNetworkEvents'],
      [MACOS_NETWORK, 'DeviceNetworkEvents'],
    ] as const) {
      const field =
        ls.category === 'file_event'
          ? 'TargetFilename'
          : ls.category === 'network_connection'
            ? 'DestinationHostname'
            : 'CommandLine'
      expect(compile(contains(field, 'x'), ls).query!.split('\n')[0]).toBe(table)
    }
  })
  test('they are Defender-only: the Sentinel family still refuses them, and auditd stays refused', () => {
    expect(compile(contains('CommandLine', 'x'), LINUX_PROCESS, { variant: 'sentinel' }).diagnostics[0]).toMatchObject({
      code: 'target/unsupported-logsource',
    })
    const auditd = compile(is('type', 'SERVICE_STOP'), { product: 'linux', service: 'auditd' })
    expect(auditd.diagnostics[0]).toMatchObject({ code: 'target/unsupported-logsource' })
    expect(auditd.diagnostics[0]!.message).toContain('linux/process_creation → DeviceProcessEvents')
    expect(auditd.diagnostics[0]!.message).toContain('macos/file_event → DeviceFileEvents')
  })
})

describe('paths split on / (the field map says so)', () => {
  test('Image|endswith: /name is exactly the FileName column; without the slash it stays a suffix of FolderPath', () => {
    expect(where(endswith('Image', '/systemctl'), LINUX_PROCESS)).toBe('FileName =~ "systemctl"')
    expect(where(endswith('Image', '/systemctl', true), LINUX_PROCESS)).toBe('FileName == "systemctl"')
    expect(where(endswith('Image', 'systemctl'), LINUX_PROCESS)).toBe('FolderPath endswith "systemctl"')
    expect(where(endswith('Image', '/bin/systemctl'), LINUX_PROCESS)).toBe('FolderPath endswith "/bin/systemctl"')
    expect(where(endswith('Image', '/'), LINUX_PROCESS)).toBe('FolderPath endswith "/"')
    expect(where(endswith('Image', '//x'), LINUX_PROCESS)).toBe('FolderPath endswith "//x"')
    expect(where(endswith('Image', '/launchctl'), MACOS_PROCESS)).toBe('FileName =~ "launchctl"')
    expect(where(endswith('ParentImage', '/bash'), MACOS_PROCESS)).toBe('InitiatingProcessFileName =~ "bash"')
  })
  test('a backslash is not a separator on Linux, nor a slash on Windows', () => {
    expect(where(endswith('Image', '\\systemctl'), LINUX_PROCESS)).toBe('FolderPath endswith @"\\systemctl"')
    expect(where(endswith('Image', '/cmd.exe'), PROCESS)).toBe('FolderPath endswith "/cmd.exe"')
    expect(where(endswith('Image', '\\cmd.exe'), PROCESS)).toBe('FileName =~ "cmd.exe"')
  })
  test('a list of /names is one in~ on the name column; other values keep their own test', () => {
    expect(
      where(
        or([
          endswith('Image', '/docker'),
          endswith('Image', '/podman'),
          endswith('Image', 'kubectl'),
          endswith('Image', '/docker'),
        ]),
        LINUX_PROCESS,
      ),
    ).toBe('FileName in~ ("docker", "podman") or FolderPath endswith "kubectl"')
    expect(where(or([endswith('Image', '/a', true), endswith('Image', '/b', true)]), LINUX_PROCESS)).toBe(
      'FileName in ("a", "b")',
    )
  })
  test('file and network events: the initiating process by name, the target file by path', () => {
    expect(
      where(
        and([
          startswith('TargetFilename', '/etc/systemd/system/'),
          not(or([endswith('Image', '/dpkg'), endswith('Image', '/usr/sbin/installer')])),
        ]),
        LINUX_FILE,
      ),
    ).toBe(
      'FolderPath startswith "/etc/systemd/system/" and not(InitiatingProcessFileName =~ "dpkg" or InitiatingProcessFolderPath endswith "/usr/sbin/installer")',
    )
    expect(where(endswith('TargetFilename', '/com.apple.backupd.plist'), MACOS_FILE)).toBe(
      'FileName =~ "com.apple.backupd.plist"',
    )
    expect(
      where(
        and([endswith('Image', '/curl'), is('DestinationPort', '443'), contains('DestinationHostname', 'evil')]),
        LINUX_NETWORK,
      ),
    ).toBe('InitiatingProcessFileName =~ "curl" and RemotePort == 443 and RemoteUrl contains "evil"')
    expect(where({ kind: 'Cidr', field: 'DestinationIp', cidr: '10.0.0.0/8', family: 4 }, MACOS_NETWORK)).toMatch(
      /^\(RemoteIP matches regex @"\^.*" and ipv4_is_in_range\(RemoteIP, "10\.0\.0\.0\/8"\)\)$/,
    )
  })
  test('numeric and Windows-only fields: ProcessId maps, integrity level and PE version info do not', () => {
    expect(where(is('ParentProcessId', '1'), LINUX_PROCESS)).toBe('InitiatingProcessId == 1')
    for (const f of ['IntegrityLevel', 'OriginalFileName', 'CurrentDirectory']) {
      expect(compile(is(f, 'x'), LINUX_PROCESS).diagnostics[0]).toMatchObject({ code: 'target/unknown-field' })
    }
  })
  test('account names and LogonId compile with a target/approximate-field warning', () => {
    for (const [field, ls] of [
      ['User', LINUX_PROCESS],
      ['ParentUser', MACOS_PROCESS],
      ['LogonId', LINUX_PROCESS],
      ['User', MACOS_FILE],
      ['User', LINUX_NETWORK],
    ] as const) {
      const c = compile(field === 'LogonId' ? is(field, '0') : is(field, 'root'), ls)
      expect(c.query, field).toBeDefined()
      expect(c.diagnostics, field).toEqual([
        expect.objectContaining({ code: 'target/approximate-field', severity: 'warning' }),
      ])
    }
  })
})

describe('the event mapping honours the separator', () => {
  const env = kqlEnv().env!
  // Rows as the verifiers' own model places them (src/verify/kql-events.ts).
  const model = kqlModel() as KqlModel
  const row = (ls: LogSource, event: JsonEvent) =>
    placeEvent(model, { ...event, _logsource: logSourceStatement(ls) })!.row!
  test('nameSuffix', () => {
    expect(nameSuffix('/systemctl', '/')).toBe('systemctl')
    expect(nameSuffix('systemctl', '/')).toBeUndefined()
    expect(nameSuffix('/bin/systemctl', '/')).toBeUndefined()
    expect(nameSuffix('/', '/')).toBeUndefined()
    expect(nameSuffix('\\x', '/')).toBeUndefined()
  })
  test('Linux and macOS rows carry the text after the last / in the name columns', () => {
    expect(row(LINUX_PROCESS, { Image: '/usr/bin/systemctl', ParentImage: '/bin/bash' })).toMatchObject({
      FolderPath: '/usr/bin/systemctl',
      FileName: 'systemctl',
      InitiatingProcessFolderPath: '/bin/bash',
      InitiatingProcessFileName: 'bash',
    })
    expect(row(LINUX_PROCESS, { Image: 'C:\\x\\sc.exe' })).toMatchObject({ FileName: '' })
    expect(row(MACOS_FILE, { TargetFilename: '/Library/LaunchDaemons/x.plist', Image: 'installer' })).toMatchObject({
      FileName: 'x.plist',
      InitiatingProcessFileName: '',
    })
    expect(row(PROCESS, { Image: 'C:\\x/sc.exe' })).toMatchObject({ FileName: 'x/sc.exe' })
  })
  test('resolved fields carry their separator', () => {
    const ls = resolveLogsource(env, LINUX_NETWORK)!
    expect(resolveField(env, ls, 'Image')).toMatchObject({
      column: 'InitiatingProcessFolderPath',
      name: 'InitiatingProcessFileName',
      separator: '/',
    })
    expect(resolveField(env, resolveLogsource(env, PROCESS)!, 'Image')).toMatchObject({ separator: '\\' })
  })
})

describe('separator in user pipelines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-kql-sep-'))
  const pipeline = (name: string, text: string) => {
    const file = join(dir, name)
    writeFileSync(file, text)
    return { pipeline: file }
  }
  test('a separator given in the data is used; a { column, name } without one splits on \\', () => {
    const slash = pipeline(
      'slash.yml',
      'logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    table: DeviceProcessEvents\n    fields:\n      Image: { column: FolderPath, name: FileName, separator: / }\n',
    )
    expect(where(endswith('Image', '/cmd.exe'), PROCESS, slash)).toBe('FileName =~ "cmd.exe"')
    expect(where(endswith('Image', '\\cmd.exe'), PROCESS, slash)).toBe('FolderPath endswith @"\\cmd.exe"')
    const plain = pipeline(
      'plain.yml',
      'logsources:\n  linux-process-creation:\n    match: { product: linux, category: process_creation }\n    table: DeviceProcessEvents\n    fields:\n      Image: { column: FolderPath, name: FileName }\n',
    )
    expect(where(endswith('Image', '\\x'), LINUX_PROCESS, plain)).toBe('FileName =~ "x"')
  })
  test('a separator that is not one caseless character, or has no name column, is a pipeline error', () => {
    for (const bad of ['//', 'x', "''", '1.5']) {
      const p = pipeline('bad.yml', `fields:\n  Image: { column: FolderPath, name: FileName, separator: ${bad} }\n`)
      const d = compile(is('Image', 'x'), LINUX_PROCESS, p).diagnostics[0]!
      expect(d.code, bad).toBe('config/pipeline')
      expect(d.message).toContain('separator')
    }
    const noName = pipeline('noname.yml', 'fields:\n  Image: { column: FolderPath, separator: / }\n')
    expect(compile(is('Image', 'x'), LINUX_PROCESS, noName).diagnostics[0]!.message).toContain(
      'separator is only meaningful with name',
    )
  })
})

const tally = { runs: 0, pairs: 0, mismatches: 0, parserChecked: 0, parserErrors: 0 }

async function expectEquivalent(name: string, detection: Node, events: readonly JsonEvent[], logsource: LogSource) {
  const eq = await checkEquivalence(rule(detection, logsource), events, backend, verifier, { variant: 'defender' })
  if (eq.query === undefined) throw new Error(`${name} was refused: ${eq.diagnostics.map((d) => d.message).join('; ')}`)
  expect(
    eq.diagnostics.filter((d) => d.severity === 'error'),
    `${name}: ${eq.query}`,
  ).toEqual([])
  expect(eq.actual).toBeDefined()
  expect(eq.unrepresentable).toEqual([])
  tally.runs++
  tally.pairs += events.length
  tally.mismatches += eq.mismatches.length
  expect(eq.mismatches, `${name}: ${eq.query}`).toEqual([])
  const parser = await checkKql(eq.query, 'defender')
  tally.parserChecked++
  tally.parserErrors += parser.length
  expect(parser, eq.query).toEqual([])
}

/** Paths that sit on every edge of the / split: no slash, trailing slash, backslashes, doubled slashes, case, non-ASCII. */
const PATHS = [
  '',
  '/',
  '//',
  'systemctl',
  'SYSTEMCTL',
  '/systemctl',
  '/SystemCTL',
  '//systemctl',
  '/usr/bin/systemctl',
  '/USR/BIN/SYSTEMCTL',
  '/usr/bin/systemctl/',
  '/usr/bin/systemctl.bak',
  '/usr/bin/mysystemctl',
  '/opt/systemctl-wrapper',
  'mysystemctl',
  'bin/systemctl',
  '\\systemctl',
  'C:\\bin\\systemctl',
  'C:\\bin\\systemctl.exe',
  'a\\b/systemctl',
  '/a/b\\systemctl',
  '/usr/bin/systemctl\n',
  '/usr/bin/ systemctl',
  '/usr/bin/sýstemctl',
  '/opt/été/systemctl',
  '/opt/ÉTÉ/Systemctl',
  '/usr/bin/systemctł',
  '/x/😀',
  '/x/a😀b',
  '/usr/sbin/installer',
  '/System/Library/PrivateFrameworks/PackageKit.framework/Resources/installd',
  '/bin/launchctl',
  '/bin/LAUNCHCTL',
  'launchctl',
  '/etc/systemd/system/x.service',
  '/ETC/systemd/system/',
  '/Library/LaunchDaemons/com.x.plist',
  '/Library/LaunchDaemons/com.x.PLIST',
  '/usr/bin/a"b',
  "/usr/bin/a'b",
  '/usr/bin/a*b',
  '/usr/bin/a?b',
  '/docker',
  '/usr/bin/docker',
  '/usr/bin/podman',
  'C:\\cmd.exe',
  '/cmd.exe',
]
const pathEvents = (fields: readonly string[]): JsonEvent[] => [
  {},
  Object.fromEntries(fields.map((f) => [f, null])),
  Object.fromEntries(fields.map((f) => [f, 12])),
  ...PATHS.map((p) => Object.fromEntries(fields.map((f) => [f, p]))),
  ...PATHS.map((p, i) => Object.fromEntries(fields.map((f, k) => [f, PATHS[(i + 5 * (k + 1)) % PATHS.length]!]))),
]

describe("equivalence on Linux and macOS paths (adversarial events, Microsoft's parser on every query)", () => {
  const PROCESS_EVENTS = pathEvents(['Image', 'ParentImage', 'CommandLine']).map((e, i) =>
    i % 3 === 0 ? e : { ...e, CommandLine: ['systemctl stop cron', 'launchctl bootout x', '', 'kill -9 1'][i % 4]! },
  )
  const CONSTRUCTS: Array<[string, (f: string) => Node]> = [
    ['endswith /name', (f) => endswith(f, '/systemctl')],
    ['endswith /name cased', (f) => endswith(f, '/systemctl', true)],
    ['endswith name without slash', (f) => endswith(f, 'systemctl')],
    ['endswith \\name', (f) => endswith(f, '\\systemctl')],
    ['endswith /dir/name', (f) => endswith(f, '/bin/systemctl')],
    ['endswith /', (f) => endswith(f, '/')],
    ['endswith //name', (f) => endswith(f, '//systemctl')],
    ['endswith /name with a quote', (f) => endswith(f, '/a"b')],
    ['endswith /name with wildcard look-alikes', (f) => match(f, pat('*/a\\*b'))],
    ['endswith /non-ASCII name', (f) => endswith(f, '/systemctł')],
    ['endswith /emoji', (f) => endswith(f, '/😀')],
    ['exact path', (f) => is(f, '/usr/bin/systemctl')],
    ['startswith', (f) => startswith(f, '/usr/')],
    ['contains', (f) => contains(f, '/bin/')],
    ['wildcard */name', (f) => match(f, pat('*/systemctl'))],
    ['wildcard */?ystemctl', (f) => match(f, pat('*/?ystemctl'))],
    [
      'list of names and paths',
      (f) =>
        or([
          endswith(f, '/docker'),
          endswith(f, '/podman'),
          endswith(f, '/launchctl'),
          endswith(f, 'systemctl'),
          is(f, '/usr/sbin/installer'),
        ]),
    ],
    ['cased list of names', (f) => or([endswith(f, '/docker', true), endswith(f, '/LAUNCHCTL', true)])],
  ]
  for (const [ls, name] of [
    [LINUX_PROCESS, 'linux'],
    [MACOS_PROCESS, 'macos'],
  ] as const) {
    for (const field of ['Image', 'ParentImage']) {
      test(`${name} process_creation ${field}: every construct and its negation`, async () => {
        for (const [label, make] of CONSTRUCTS) {
          await expectEquivalent(`${name} ${field} ${label}`, make(field), PROCESS_EVENTS, ls)
          await expectEquivalent(`${name} ${field} not ${label}`, not(make(field)), PROCESS_EVENTS, ls)
        }
      })
    }
  }
  test("the shapes of the pack's rules: image and verb, image lists, init scripts", async () => {
    const n = or([
      and([
        or([endswith('Image', '/systemctl'), endswith('Image', '/service')]),
        or([contains('CommandLine', ' stop '), endswith('CommandLine', ' stop')]),
      ]),
      match('CommandLine', pat('*/etc/init.d/* stop')),
      and([endswith('Image', '/launchctl'), not(endswith('ParentImage', '/bash'))]),
    ])
    for (const ls of [LINUX_PROCESS, MACOS_PROCESS]) {
      await expectEquivalent('pack shape', n, PROCESS_EVENTS, ls)
      await expectEquivalent('not pack shape', not(n), PROCESS_EVENTS, ls)
    }
  })
  test('file events: TargetFilename by path and name, the initiating process by name', async () => {
    const events = pathEvents(['TargetFilename', 'Image'])
    const n = and([
      or([startswith('TargetFilename', '/etc/systemd/system/'), contains('TargetFilename', '/Library/LaunchDaemons/')]),
      not(
        or([
          endswith('Image', '/dpkg'),
          endswith('Image', '/usr/sbin/installer'),
          contains('Image', '/PackageKit.framework/'),
        ]),
      ),
    ])
    for (const ls of [LINUX_FILE, MACOS_FILE]) {
      await expectEquivalent('file', n, events, ls)
      await expectEquivalent('not file', not(n), events, ls)
      await expectEquivalent('file name', endswith('TargetFilename', '/com.x.plist'), events, ls)
      await expectEquivalent('file suffix', endswith('TargetFilename', '.plist'), events, ls)
      await expectEquivalent('not file name', not(endswith('TargetFilename', '/systemctl')), events, ls)
    }
  })
  test('network events: the initiating process by name, addresses and ports', async () => {
    const events: JsonEvent[] = [
      ...pathEvents(['Image']),
      ...PATHS.map((p, i) => ({
        Image: p,
        DestinationIp: ['10.1.2.3', '192.168.1.1', '::1', 'abc', ''][i % 5]!,
        DestinationPort: [443, '443', 80, null][i % 4]!,
      })),
    ]
    const n = and([
      or([endswith('Image', '/curl'), endswith('Image', '/systemctl')]),
      or([{ kind: 'Cidr', field: 'DestinationIp', cidr: '10.0.0.0/8', family: 4 }, is('DestinationPort', '443')]),
    ])
    for (const ls of [LINUX_NETWORK, MACOS_NETWORK]) {
      await expectEquivalent('network', n, events, ls)
      await expectEquivalent('not network', not(n), events, ls)
    }
  })
})

describe("the rule pack's Linux and macOS rules", () => {
  test("all but auditd compile for Defender, and Microsoft's parser accepts every query", async () => {
    const { rules } = loadPaths([join(ROOT, 'rules/linux'), join(ROOT, 'rules/macos')])
    expect(rules.length).toBe(16)
    let compiled = 0
    for (const r of rules) {
      const c = backend.compile(r)
      if (r.logsource.service === 'auditd') {
        expect(c.diagnostics[0], r.file).toMatchObject({ code: 'target/unsupported-logsource' })
        continue
      }
      expect(c.diagnostics, r.file).toEqual([])
      expect(await checkKql(c.query!, 'defender'), c.query).toEqual([])
      compiled++
    }
    expect(compiled).toBe(15)
  })
})

afterAll(() => {
  console.log(
    `kql unix paths: ${tally.runs} construct runs, ${tally.pairs} (construct, event) pairs, ${tally.mismatches} mismatches; Microsoft's parser checked ${tally.parserChecked} queries, ${tally.parserErrors} errors`,
  )
  expect(tally.mismatches).toBe(0)
  expect(tally.parserErrors).toBe(0)
})
