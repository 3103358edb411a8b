import { describe, expect, it } from 'vitest'
import { decodeInput } from '../../src/input-file.js'

const decode = (bytes: number[] | Buffer) => decodeInput(Buffer.from(bytes), 'r.yml', 'rule file')

describe('decodeInput (one strict decoder shared by every file)', () => {
  it('drops one leading UTF-8 byte-order mark and keeps a second as text', () => {
    expect(decode(Buffer.from('\uFEFFtitle: x\n'))).toEqual({ text: 'title: x\n' })
    expect(decode(Buffer.from('\uFEFF\uFEFFtitle: x\n'))).toEqual({ text: '\uFEFFtitle: x\n' })
    expect(decode(Buffer.from('title: \uFEFFx\n'))).toEqual({ text: 'title: \uFEFFx\n' })
  })

  it('names the first bad byte, and a file cut inside a character does not reach the next file', () => {
    const cut = decode([...Buffer.from('title: caf'), 0xc3])
    expect(cut).toMatchObject({
      diagnostic: { code: 'io/invalid-utf8', message: expect.stringContaining('bytes C3 at byte offset 10') },
    })
    // Were the decoder streaming, the 0xC3 above would join this file's first byte.
    expect(decode([0xa9, 0x0a])).toMatchObject({ diagnostic: { code: 'io/invalid-utf8' } })
    expect(decode(Buffer.from('title: café\n'))).toEqual({ text: 'title: café\n' })
    expect(decode([...Buffer.from('a: '), 0xed, 0xa0, 0x80])).toMatchObject({ diagnostic: { code: 'io/invalid-utf8' } })
  })
})
