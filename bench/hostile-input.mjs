#!/usr/bin/env node
/**
 * Hostile input, measured: each attack is generated in a scratch folder (never in the repository),
 * run through the built CLI under /usr/bin/time -v with a time limit, and reported as a row:
 * attack, exit code, first diagnostic line, wall time, peak memory.
 *
 *   node bench/hostile-input.mjs [--only NAME] [--big] [--limit SECONDS] [--cli PATH-TO-bin/rulesmith.js]
 *
 * --big adds the ~500 MB events file (streaming `match`); it takes a minute and 500 MB of /tmp.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync, createWriteStream, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const cli = process.argv.includes('--cli')
  ? resolve(process.argv[process.argv.indexOf('--cli') + 1])
  : join(root, 'bin', 'rulesmith.js')
const argv = process.argv.slice(2)
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined
const big = argv.includes('--big')
const limit = argv.includes('--limit') ? Number(argv[argv.indexOf('--limit') + 1]) : 30
const work = join(tmpdir(), 'rulesmith-hostile-input')
rmSync(work, { recursive: true, force: true })
mkdirSync(work, { recursive: true })

const rule = (detection, extra = '') =>
  `title: hostile\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n${detection}\nlevel: low\n${extra}`

function dir(name, files) {
  const d = join(work, name)
  mkdirSync(d, { recursive: true })
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text)
  return d
}

const redos = dir('redos', {
  'r.yml': rule("  sel:\n    CommandLine|re: '(a+)+$'\n  condition: sel"),
  'r.tests.yml': `rule: 11111111-2222-3333-4444-555555555555\nmatch:\n  - event: { CommandLine: '${'a'.repeat(40)}' }\nnomatch:\n  - event: { CommandLine: '${'a'.repeat(40)}!' }\n`,
})
writeFileSync(join(work, 'redos.jsonl'), JSON.stringify({ CommandLine: 'a'.repeat(40) + '!' }) + '\n')
const glob = dir('glob', { 'g.yml': rule("  sel:\n    CommandLine: '*a*a*a*a*a*a*a*a*a*a*a*a*b'\n  condition: sel") })
writeFileSync(join(work, 'glob.jsonl'), JSON.stringify({ CommandLine: 'a'.repeat(3000) }) + '\n')

// 230 KB: one anchored list of 1,000 values, reused by alias in thousands of selections.
{
  const sels = ['  base: &L [' + Array.from({ length: 1000 }, (_, i) => `v${i}`).join(', ') + ']']
  for (let n = 0; sels.join('\n').length < 220_000 - 40 * n; n++) sels.push(`  s${n}: { CommandLine|contains: *L }`)
  dir('alias', { 'bomb.yml': rule(sels.join('\n') + '\n  condition: 1 of s*') })
}
const fifoDir = dir('fifo', {})
spawnSync('mkfifo', [join(fifoDir, 'wait.yml')])
const loopDir = dir('loop', {})
symlinkSync('b.yml', join(loopDir, 'a.yml'))
symlinkSync('a.yml', join(loopDir, 'b.yml'))
dir('outside', { 'secret.yml': rule('  sel:\n    CommandLine: secret\n  condition: sel') })
const escapeDir = dir('escape', {})
symlinkSync(join(work, 'outside', 'secret.yml'), join(escapeDir, 'link.yml'))
const utf8 = dir('utf8', {})
writeFileSync(
  join(utf8, 'bad.yml'),
  Buffer.concat([
    Buffer.from('title: bad '),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(rule('  sel:\n    A: x\n  condition: sel').slice(13)),
  ]),
)
const utf16 = dir('utf16', {})
writeFileSync(
  join(utf16, 'wide.yml'),
  Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rule('  sel:\n    A: x\n  condition: sel'), 'utf16le')]),
)
const names = dir('names', {})
const forged = 'x.yml\nevil.yml:1:1: error: forged [rule-forged]\n::error file=a::forged\u001b[2J\u0007'
writeFileSync(join(names, forged + '.yml'), 'title: [\n')
const hugeDir = dir('huge', {})
{
  const line = '# ' + 'x'.repeat(1000) + '\n'
  writeFileSync(join(hugeDir, 'huge.yml'), rule('  sel:\n    A: x\n  condition: sel') + line.repeat(200_000))
}
dir('docs', {
  'many.yml': Array.from({ length: 20_000 }, () => rule('  sel:\n    A: x\n  condition: sel')).join('---\n'),
})
dir('values', {
  'values.yml': rule(
    '  sel:\n    CommandLine|contains:\n' +
      Array.from({ length: 200_000 }, (_, i) => `      - v${i}\n`).join('') +
      '  condition: sel',
  ),
})
if (big) {
  const out = createWriteStream(join(work, 'big.jsonl'))
  const line =
    JSON.stringify({
      CommandLine: 'c:\\windows\\system32\\cmd.exe /c ' + 'x'.repeat(400),
      Image: 'c:\\windows\\system32\\cmd.exe',
    }) + '\n'
  const n = Math.ceil(500_000_000 / line.length)
  await new Promise((done) => {
    let i = 0
    const write = () => {
      while (i < n) {
        i++
        if (!out.write(line)) return out.once('drain', write)
      }
      out.end(done)
    }
    write()
  })
}

const attacks = [
  ['redos: match (reference)', ['match', '--events', join(work, 'redos.jsonl'), redos]],
  ['redos: match --target spl', ['match', '--target', 'spl', '--events', join(work, 'redos.jsonl'), redos]],
  ['redos: match --target eql', ['match', '--target', 'eql', '--events', join(work, 'redos.jsonl'), redos]],
  ['redos: match --target osquery', ['match', '--target', 'osquery', '--events', join(work, 'redos.jsonl'), redos]],
  ['redos: test', ['test', redos]],
  ['redos: validate', ['validate', redos]],
  ['wildcards (13 stars, 3,000 chars): match', ['match', '--events', join(work, 'glob.jsonl'), glob]],
  ['wildcards: match --target eql', ['match', '--target', 'eql', '--events', join(work, 'glob.jsonl'), glob]],
  ['wildcards: match --target spl', ['match', '--target', 'spl', '--events', join(work, 'glob.jsonl'), glob]],
  ['alias expansion (230 KB): validate --no-compile', ['validate', '--no-compile', join(work, 'alias')]],
  ['FIFO named wait.yml: validate', ['validate', '--no-compile', fifoDir]],
  ['/dev/zero: validate', ['validate', '--no-compile', '/dev/zero']],
  ['/dev/zero as events: match', ['match', '--events', '/dev/zero', redos]],
  ['symlink loop: validate', ['validate', '--no-compile', loopDir]],
  ['symlink leaving the tree: validate', ['validate', '--no-compile', escapeDir]],
  ['invalid UTF-8: validate', ['validate', '--no-compile', utf8]],
  ['UTF-16 with BOM: validate', ['validate', '--no-compile', utf16]],
  ['file name with newline/ESC/BEL: validate', ['validate', '--no-compile', names]],
  ['file name: validate --format github', ['validate', '--no-compile', '--format', 'github', names]],
  ['200 MB rule file: validate', ['validate', '--no-compile', hugeDir]],
  ['20,000 documents in one file: validate', ['validate', '--no-compile', join(work, 'docs')]],
  ['200,000 values in one field: validate', ['validate', '--no-compile', join(work, 'values')]],
  ...(big ? [['~500 MB events: match', ['match', '--events', join(work, 'big.jsonl'), redos]]] : []),
]

const rows = []
for (const [name, args] of attacks) {
  if (only && !name.includes(only)) continue
  const r = spawnSync('/usr/bin/time', ['-v', 'timeout', '-k', '5', String(limit), process.execPath, cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(r.stderr)?.[1]
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? 0)
  const code = /Exit status: (\d+)/.exec(r.stderr)?.[1]
  const out = (r.stdout + r.stderr.split('\tCommand being timed')[0])
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('Command exited') && !l.startsWith('Command terminated'))
  const first = out.find((l) => /error|warning|::/.test(l)) ?? out[0] ?? ''
  const shown = JSON.stringify(first.length > 150 ? first.slice(0, 150) + '…' : first).replace(work, '$W')
  rows.push(
    `| ${String(name)} | ${shown.replaceAll(work, '$W').replaceAll('|', '\\|')} | ${code === '124' || code === '137' ? `killed after ${limit} s` : (code ?? 'none')} | ${wall ?? '?'} | ${Math.round(rss / 1024)} MB |`,
  )
  console.error(rows.at(-1))
}
console.log('| attack | first diagnostic | exit | wall | peak RSS |\n|---|---|---|---|---|\n' + rows.join('\n'))
if (existsSync(join(work, 'big.jsonl'))) rmSync(join(work, 'big.jsonl'))
