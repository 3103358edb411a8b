#!/usr/bin/env node
/**
 * The output side of issue 12 as a table: each attack run against a rulesmith CLI under
 * /usr/bin/time -v, with its exit code, first diagnostic (or what went wrong), wall time, peak
 * memory and what was left on disk. Run it against this checkout and against an older build to
 * get the before/after rows:
 *
 *   node bench/hostile-output.mjs                       # bin/rulesmith.js of this checkout
 *   node bench/hostile-output.mjs --bin /path/to/old/bin/rulesmith.js
 *
 * The full-disk and permission rows use RULESMITH_FAULT=CODE@N (src/bundle/write.ts) where the
 * build has it; an older build meets a real full disk through a symlink to /dev/full in --out.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const binAt = args.indexOf('--bin')
const BIN = resolve(binAt >= 0 ? args[binAt + 1] : fileURLToPath(new URL('../bin/rulesmith.js', import.meta.url)))
const root = mkdtempSync(join(tmpdir(), 'rulesmith-hostile-out-'))

const rule = (meta = {}) =>
  Object.entries({
    title: 'Service stopped by sc.exe',
    id: '5f0c3f9e-1111-4222-8333-944455556666',
    status: 'test',
    level: 'high',
    ...meta,
  })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n') +
  `\nlogsource: { product: windows, category: process_creation }\ndetection:\n  sel:\n    Image|endswith: '\\sc.exe'\n  condition: sel\n`
const put = (path, text) => (mkdirSync(dirname(path), { recursive: true }), writeFileSync(path, text), path)
const tree = (dir) => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : [])

function run(argv, env = {}) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  })
  // "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:00.25"
  const wall = /Elapsed \(wall clock\) time \([^)]*\): (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(r.stderr)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)
  const stderr = r.stderr.split('\tCommand being timed')[0]
  const diag =
    stderr
      .split('\n')
      .find((l) => /error|warning|internal|^rulesmith /.test(l))
      ?.replace(root, '…') ?? ''
  return {
    code: r.status,
    stdout: r.stdout,
    diag,
    seconds: wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN,
    mb: rss ? Math.round(Number(rss[1]) / 1024) : NaN,
  }
}

const rows = []
function row(attack, r, left) {
  rows.push(
    `| ${attack} | ${r.diag.replace(/\|/g, '\\|').slice(0, 150) || '(none)'} | ${r.code} | ${r.seconds.toFixed(2)} s | ${r.mb} MB | ${left} |`,
  )
}

// 1. A license with a newline in savedsearches.conf.
{
  const f = put(join(root, 'c1', 'rule.yml'), rule({ license: JSON.stringify('MIT\n[Injected]\nsearch = | delete') }))
  const r = run(['compile', '--target', 'spl', '--format', 'savedsearches', f])
  const stanzas = r.stdout.split('\n').filter((l) => l.startsWith('[')).length
  row('license with newline → savedsearches.conf', r, `${stanzas} stanza(s)`)
}
// 2. A file name with a newline (header comment).
{
  const f = put(join(root, 'c2', 'evil\n[Injected]\nsearch = | delete.yml'), rule())
  const r = run(['compile', '--target', 'spl', '--format', 'savedsearches', f])
  const stanzas = r.stdout.split('\n').filter((l) => l.startsWith('[')).length
  row('file name with newline → savedsearches.conf', r, `${stanzas} stanza(s)`)
}
// 3. A title with U+2028, NEL and a trailing backslash (stanza name, comment).
{
  const f = put(join(root, 'c3', 'rule.yml'), rule({ title: JSON.stringify('A\u2028B\u0085C\\') }))
  const r = run(['compile', '--target', 'spl', '--format', 'savedsearches', f])
  const bad = (r.stdout.match(/[\r\v\f\u0085\u2028\u2029]|\\\n/g) ?? []).length
  row('title with U+2028, NEL, trailing \\ → stanza/comment', r, `${bad} raw separator(s)/continuation(s)`)
}
// 4. Two titles, one stanza.
{
  put(join(root, 'c4', 'a.yml'), rule({ title: "'Stop [svc]'" }))
  put(join(root, 'c4', 'b.yml'), rule({ title: "'Stop svc'", id: '5f0c3f9e-1111-4222-8333-944455550002' }))
  const r = run(['compile', '--target', 'spl', '--format', 'savedsearches', join(root, 'c4')])
  const stanzas = r.stdout.split('\n').filter((l) => l.startsWith('['))
  row('two titles → one stanza', r, `${new Set(stanzas).size} distinct of ${stanzas.length} stanzas`)
}
// 5. Full disk during compile --out.
{
  const rules = join(root, 'c5', 'rules')
  for (let i = 0; i < 3; i++)
    put(join(rules, `r${i}.yml`), rule({ title: `'R${i}'`, id: `5f0c3f9e-1111-4222-8333-94445555000${i}` }))
  const out = join(root, 'c5', 'out')
  // Older builds write in place: a file that is a link to /dev/full fails with ENOSPC.
  mkdirSync(join(out, 'spl', 'default'), { recursive: true })
  symlinkSync('/dev/full', join(out, 'spl', 'default', 'r1.spl'))
  writeFileSync(join(out, 'compile-manifest.json'), '{"tool":"rulesmith"}')
  const before = tree(out).join(',')
  const r = run(['compile', '--target', 'spl', '--out', out, rules], { RULESMITH_FAULT: 'ENOSPC@2' })
  row(
    'full disk (ENOSPC) during compile --out',
    r,
    tree(out).join(',') === before ? 'out unchanged' : `out changed: ${tree(out).join(' ')}`,
  )
}
// 6. ENOTDIR: --out below a file.
{
  const f = put(join(root, 'c6', 'rule.yml'), rule())
  const file = put(join(root, 'c6', 'file.txt'), 'x')
  const r = run(['compile', '--target', 'spl', '--out', join(file, 'a', 'b'), f])
  row('--out below a file (ENOTDIR)', r, '')
}
// 7. EPERM: --out in /sys (read-only pseudo file system).
{
  const f = put(join(root, 'c7', 'rule.yml'), rule())
  const r = run(['compile', '--target', 'spl', '--out', '/sys/rulesmith-out', f])
  row('--out in /sys (EPERM)', r, '')
}
// 8. EACCES and EROFS (simulated; root ignores permissions).
for (const code of ['EACCES', 'EROFS']) {
  const rules = join(root, 'c8', 'rules')
  put(join(rules, 'r.yml'), rule())
  const out = join(root, 'c8', `out-${code}`)
  const r = run(['compile', '--target', 'spl', '--out', out, rules], { RULESMITH_FAULT: `${code}@1` })
  row(
    `${code} during compile --out (RULESMITH_FAULT)`,
    r,
    existsSync(out) ? `left: ${tree(out).join(' ')}` : 'nothing left',
  )
}
// 9. Files of an earlier run stay in --out.
{
  const rules = join(root, 'c9', 'rules')
  put(join(rules, 'kept.yml'), rule())
  const gone = put(join(rules, 'gone.yml'), rule({ title: "'Gone'", id: '5f0c3f9e-1111-4222-8333-944455550009' }))
  const out = join(root, 'c9', 'out')
  run(['compile', '--target', 'spl', '--out', out, rules])
  rmSync(gone)
  const r = run(['compile', '--target', 'spl', '--out', out, rules])
  row('deleted rule, second compile --out', r, `files: ${tree(join(out, 'spl', 'default')).join(' ')}`)
}
// 10. Two rules → one output file.
{
  const rules = join(root, 'c10', 'rules')
  put(join(rules, 'a.yml'), rule() + '---\n' + rule({ title: "'Second'", id: '5f0c3f9e-1111-4222-8333-944455550002' }))
  put(join(rules, 'a-2.yml'), rule({ title: "'Third'", id: '5f0c3f9e-1111-4222-8333-944455550003' }))
  const out = join(root, 'c10', 'out')
  const r = run(['compile', '--target', 'spl', '--out', out, rules])
  row(
    'two rules → one output file',
    r,
    existsSync(out) ? `${tree(join(out, 'spl', 'default')).length} files for 3 rules` : 'nothing written',
  )
}
// 11. --out inside the rules folder.
{
  const rules = join(root, 'c11', 'rules')
  put(join(rules, 'r.yml'), rule())
  const r = run(['compile', '--target', 'spl', '--format', 'savedsearches', '--out', join(rules, 'build'), rules])
  row('--out inside the rule folder', r, existsSync(join(rules, 'build')) ? 'written into rules/' : 'nothing written')
}
// 12. A symlinked bundle --out.
{
  const rules = join(root, 'c12', 'rules')
  put(join(rules, 'r.yml'), rule())
  const real = join(root, 'c12', 'real')
  run(['bundle', '--out', real, rules])
  const link = join(root, 'c12', 'link')
  symlinkSync(real, link)
  const r = run(['bundle', '--out', link, rules])
  const isLink = spawnSync('test', ['-L', link]).status === 0
  row('symlinked bundle --out', r, isLink ? 'link kept, target replaced' : 'link replaced by a folder')
}

console.log(`rulesmith: ${BIN}\n`)
console.log('| attack | first diagnostic | exit | time | peak memory | left behind |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const r of rows) console.log(r)
rmSync(root, { recursive: true, force: true })
