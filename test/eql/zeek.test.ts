/**
 * Zeek logs through Elastic's zeek integration (targets/eql/target.yml, zeek-*): each log pinned by
 * its event.dataset, its own fields under zeek.<log>, the connection id as source./destination.
 * ECS fields, and http.log's renamed fields. The verifier lands each record in its own data stream;
 * a query reading the wrong Zeek column or the wrong log fails the proof.
 */
import { describe, expect, it } from 'vitest'
import { withOrigin } from '../../src/origin.js'
import { checkQuery } from '../../src/proof/equivalence.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { eql, expectEquivalent, sigma } from './helpers.js'

const zeek = (service: string) => `product: zeek\n  service: ${service}`

describe('eql: zeek logs', () => {
  it.each([
    ['smb_files', 'name', 'zeek.smb_files.name'],
    ['dce_rpc', 'operation', 'zeek.dce_rpc.operation'],
    ['kerberos', 'cipher', 'zeek.kerberos.cipher'],
    ['x509', 'certificate.serial', 'zeek.x509.certificate.serial'],
    ['http', 'method', 'http.request.method'],
    ['http', 'user_agent', 'user_agent.original'],
    ['http', 'resp_mime_types', 'zeek.http.resp_mime_types'],
  ])('%s: %s → %s', (service, field, ecs) => {
    expect(eql(sigma(`  sel:\n    ${field}: x\n  condition: sel`, zeek(service)))).toBe(
      `any where event.dataset == "zeek.${service}" and ${ecs} : "x"`,
    )
  })

  it('the connection id is source.ip/destination.ip, searched as addresses', () => {
    expect(eql(sigma(`  sel:\n    id.orig_h|cidr: 10.0.0.0/8\n  condition: sel`, zeek('rdp')))).toBe(
      'any where event.dataset == "zeek.rdp" and cidrMatch(source.ip, "10.0.0.0/8")',
    )
  })

  it('refuses a boolean and a field the log does not have', () => {
    const codes = (detection: string, service: string) =>
      backend.compile(sigma(detection, zeek(service))).diagnostics.map((d) => d.code)
    expect(codes('  sel:\n    success: false\n  condition: sel', 'kerberos')).toEqual(['target/unsupported-field-type'])
    expect(codes("  sel:\n    c-uri|endswith: '.exe'\n  condition: sel", 'http')).toEqual(['target/unknown-field'])
  })

  it('smb_files: equivalent on its records; reading the wrong column or log fails the proof', async () => {
    const rule = sigma(
      "  sel:\n    path|endswith: 'IPC$'\n    name: spoolss\n  filter:\n    id.orig_h|cidr: 10.0.0.0/8\n  condition: sel and not filter",
      zeek('smb_files'),
    )
    const events = [
      { path: '\\\\srv\\IPC$', name: 'spoolss', 'id.orig_h': '192.0.2.7' },
      { path: '\\\\srv\\IPC$', name: 'SPOOLSS' },
      { path: '\\\\srv\\IPC$', name: 'spoolss', 'id.orig_h': '10.1.2.3' },
      { path: '\\\\srv\\ADMIN$', name: 'spoolss', 'id.orig_h': '192.0.2.7' },
      // The same columns in another Zeek log: not an smb_files record.
      { path: '\\\\srv\\IPC$', name: 'spoolss', _logsource: { product: 'zeek', service: 'dce_rpc' } },
      { named_pipe: 'spoolss', operation: 'x', _logsource: { product: 'zeek', service: 'dce_rpc' } },
    ]
    expect(await expectEquivalent(rule, events)).toEqual([true, true, false, false, false, false])
    const q = eql(rule)
    const wrongColumn = await checkQuery(
      rule,
      q.replace('zeek.smb_files.name', 'zeek.smb_files.path'),
      events,
      verifier,
    )
    expect(wrongColumn.mismatches).toEqual([0, 1])
    const wrongLog = await checkQuery(rule, q.replace('"zeek.smb_files"', '"zeek.dce_rpc"'), events, verifier)
    expect(wrongLog.mismatches).toEqual([0, 1])
  })

  it('http: renamed fields and a multi-valued mime type list', async () => {
    const rule = sigma(
      "  sel:\n    host|endswith: '.ru'\n    method: GET\n  ext:\n    uri|endswith: '.exe'\n  mime:\n    resp_mime_types: application/x-dosexec\n  condition: sel and (ext or mime)",
      zeek('http'),
    )
    const events = [
      { host: 'a.ru', method: 'GET', uri: '/x.exe', resp_mime_types: ['text/plain'] },
      { host: 'a.ru', method: 'GET', uri: '/x', resp_mime_types: ['text/html', 'application/x-dosexec'] },
      { host: 'a.ru', method: 'GET', uri: '/x', resp_mime_types: ['text/html'] },
      { host: 'a.com', method: 'GET', uri: '/x.exe' },
      { host: 'a.ru', method: 'POST', uri: '/x.exe' },
    ]
    expect(await expectEquivalent(rule, events)).toEqual([true, true, false, false, false])
  })

  it('http: a uri with a host is left out of a query on host or user_agent, not judged', async () => {
    const rule = sigma("  sel:\n    host|endswith: '.ru'\n    user_agent: curl\n  condition: sel", zeek('http'))
    const v = await verifier.verify(
      eql(rule),
      withOrigin(
        [
          // uri_parts puts evil.ru in url.domain; the host rename then fails, user_agent stays raw.
          { host: 'a.com', uri: 'http://evil.ru/x', user_agent: 'curl' },
          { uri: '//evil.ru/x', user_agent: 'curl' },
          { host: 'a.ru', uri: '/x', user_agent: 'curl' },
        ],
        rule.logsource,
      ),
    )
    expect(v.unrepresentable).toEqual([0, 1])
    expect(v.matches?.[2]).toBe(true)
    // A query that reads neither field judges such a record.
    const m = sigma('  sel:\n    method: GET\n  condition: sel', zeek('http'))
    const w = await verifier.verify(
      eql(m),
      withOrigin([{ method: 'GET', host: 'a.com', uri: 'http://b/' }], m.logsource),
    )
    expect(w.unrepresentable).toEqual([])
    expect(w.matches).toEqual([true])
  })
})
