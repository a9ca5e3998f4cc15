/**
 * The output model of the read commands (src/cli/output.ts, printable.ts, table.ts): the format
 * chosen, only that format built, tables whose cells are always printable and short whatever a
 * value holds, the fields quoting and etcdctl's JSON conventions.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {getView, kvToJson, txnView, watchView} from '../../src/cli/kv_output.js'
import {chooseFormat, emit, etcdJson, fieldLine, type View, type WriteOut} from '../../src/cli/output.js'
import {hexEscaped, isUtf8, printable} from '../../src/cli/printable.js'
import {MAX_CELL, renderTable} from '../../src/cli/table.js'
import type {RangeResponse} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {Event_EventType, type KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'

const t = (s: string): Uint8Array => new TextEncoder().encode(s)
const kv = (key: Uint8Array, value: Uint8Array, rev = 5): KeyValue => ({key, value, createRevision: rev, modRevision: rev, version: 1, lease: 0n})
const header = {clusterId: 7n, memberId: 2n, revision: 9, raftTerm: 3}

/** What emit() writes for `format` (as bytes), collected instead of written to stdout. */
function emitted<D>(format: WriteOut, view: View<D>, d: D): Buffer {
  const parts: Buffer[] = []
  emit(format, view, d, (chunks) => { for (const c of chunks) parts.push(Buffer.from(c)) })
  return Buffer.concat(parts)
}

describe('cli/output: the format of a read command', () => {
  it('defaults to table on a terminal and simple otherwise; -w (or RAFTCTL_WRITE_OUT) wins; --json prints the result object', () => {
    expect(chooseFormat({writeOut: undefined, explicit: false, json: false, tty: true})).to.equal('table')
    expect(chooseFormat({writeOut: undefined, explicit: false, json: false, tty: false})).to.equal('simple')
    expect(chooseFormat({writeOut: 'json', explicit: true, json: false, tty: true})).to.equal('json')
    expect(chooseFormat({writeOut: 'fields', explicit: false, json: false, tty: false})).to.equal('fields')
    expect(chooseFormat({writeOut: undefined, explicit: false, json: false, tty: true, fallback: 'simple'})).to.equal('simple')
    expect(chooseFormat({writeOut: undefined, explicit: false, json: true, tty: true})).to.equal('result')
    expect(chooseFormat({writeOut: 'table', explicit: false, json: true, tty: true}), 'the environment gives way to --json').to.equal('result')
    expect(() => chooseFormat({writeOut: 'json', explicit: true, json: true, tty: false}))
      .to.throw('--json and --write-out cannot be combined; --json prints raftctl\'s result object, --write-out json prints etcdctl\'s JSON')
  })

  it('builds only the format it prints (no table behind --json or -w simple)', () => {
    const called: string[] = []
    const view: View<number> = {
      simple: () => { called.push('simple'); return ['s\n'] },
      table: () => { called.push('table'); return 't' },
      fields: () => { called.push('fields'); return [['N', 1]] },
      json: () => { called.push('json'); return {n: 1} },
    }
    expect(emitted('simple', view, 1).toString()).to.equal('s\n')
    expect(emitted('json', view, 1).toString()).to.equal('{"n":1}\n')
    expect(emitted('fields', view, 1).toString()).to.equal('"N" : 1\n')
    expect(emitted('table', view, 1).toString()).to.equal('t\n')
    expect(called).to.deep.equal(['simple', 'json', 'fields', 'table'])
  })

  it('writes keys and values of the simple format as their exact bytes (not through a UTF-8 string)', () => {
    const value = Uint8Array.of(0x00, 0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x80)
    const res: RangeResponse = {header, kvs: [kv(t('bin/x'), value)], more: false, count: 1}
    const base = {res, what: 'key "bin/x"', hex: false, keysOnly: false, countOnly: false, printValueOnly: false, tty: false}
    expect([...emitted('simple', getView, base)]).to.deep.equal([...t('bin/x\n'), ...value, 0x0a])
    expect([...emitted('simple', getView, {...base, printValueOnly: true})], 'exactly the stored bytes').to.deep.equal([...value])
    expect(emitted('simple', getView, {...base, printValueOnly: true, tty: true}).at(-1), 'a newline on a terminal').to.equal(0x0a)
    expect(emitted('simple', getView, {...base, hex: true}).toString())
      .to.equal('\\x62\\x69\\x6e\\x2f\\x78\n\\x00\\xff\\xfe\\x0a\\xc3\\x28\\x80\n')
  })

  it('separates several values of --print-value-only with newlines, none after the last', () => {
    const res: RangeResponse = {header, kvs: [kv(t('a'), t('1')), kv(t('b'), t('2'))], more: false, count: 2}
    const d = {res, what: '', hex: false, keysOnly: false, countOnly: false, printValueOnly: true, tty: false}
    expect(emitted('simple', getView, d).toString()).to.equal('1\n2')
  })

  it('prints etcdctl\'s JSON: snake_case, base64 bytes, zero values left out', () => {
    const res: RangeResponse = {header, kvs: [kv(t('foo'), t('bar'), 2)], more: false, count: 1}
    expect(etcdJson(res)).to.deep.equal({
      header: {cluster_id: 7, member_id: 2, revision: 9, raft_term: 3},
      kvs: [{key: 'Zm9v', create_revision: 2, mod_revision: 2, version: 1, value: 'YmFy'}], count: 1,
    })
    const ev = {revision: 4, hex: false, events: [{type: Event_EventType.PUT, kv: {...kv(t('a'), t('1'), 4), lease: 0n}, prevKv: undefined},
      {type: Event_EventType.DELETE, kv: {...kv(t('b'), new Uint8Array(0), 4), version: 0, createRevision: 0, lease: 0n}, prevKv: undefined}]}
    expect(watchView.json(ev)).to.deep.equal({Header: {revision: 4}, Events: [
      {kv: {key: 'YQ==', create_revision: 4, mod_revision: 4, version: 1, value: 'MQ=='}}, {type: 1, kv: {key: 'Yg==', mod_revision: 4}},
    ], CompactRevision: 0, Canceled: false, Created: false})
    const txn = {hex: false, res: {header, succeeded: false, responses: [{responsePut: {header: {...header, revision: 9}, prevKv: undefined}}]}}
    expect(txnView.json(txn)).to.deep.equal({header: {cluster_id: 7, member_id: 2, revision: 9, raft_term: 3},
      responses: [{Response: {ResponsePut: {header: {revision: 9}}}}]})
  })

  it('quotes strings and bytes in the fields format with escapes', () => {
    expect(fieldLine(['Key', t('a"b\\c')])).to.equal('"Key" : "a\\"b\\\\c"\n')
    expect(fieldLine(['Value', Uint8Array.of(0x61, 0x00, 0xff, 0x0a)])).to.equal('"Value" : "a\\x00\\xff\\n"\n')
    expect(fieldLine(['Value', {bytes: t('ab'), hex: true}])).to.equal('"Value" : "\\x61\\x62"\n')
    expect(fieldLine(['Voters', [1, 2]])).to.equal('"Voters" : [1 2]\n')
    expect(fieldLine(['Errors', ['a b']])).to.equal('"Errors" : ["a b"]\n')
    expect(fieldLine(['More', false])).to.equal('"More" : false\n')
  })

  it('keeps --json lossless: text when the bytes are UTF-8, else base64 marked as such', () => {
    expect(kvToJson(kv(t('k'), t('v')))).to.deep.equal({key: 'k', value: 'v', createRevision: 5, modRevision: 5, version: 1})
    expect(kvToJson(kv(Uint8Array.of(0xff), Uint8Array.of(0, 0xfe)))).to.deep.equal({
      key: '/w==', value: 'AP4=', createRevision: 5, modRevision: 5, version: 1, keyEncoding: 'base64', valueEncoding: 'base64',
    })
  })
})

describe('cli/printable and cli/table: every cell printable and short', () => {
  it('escapes control characters, invalid UTF-8 and terminal tricks, keeping valid text', () => {
    expect(printable(t('héllo wörld ✓')).text).to.equal('héllo wörld ✓')
    expect(printable(Uint8Array.of(0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x09, 0x7f, 0xc2, 0x85)).text).to.equal('\\x1b[2J\\n\\t\\x7f\\x85')
    expect(printable(Uint8Array.of(0x61, 0xc3, 0x28, 0xff, 0xe2, 0x82)).text).to.equal('a\\xc3(\\xff\\xe2\\x82')
    expect(printable('rtl\u202eevil\u2028').text).to.equal('rtl\\u{202e}evil\\u{2028}')
    expect(printable('a\ud800b').text).to.equal('a\\u{d800}b')
    expect(isUtf8(Uint8Array.of(0xc3, 0xa9))).to.equal(true)
    expect(isUtf8(Uint8Array.of(0xc3))).to.equal(false)
  })

  it('never lets a control byte or an over-long cell reach the table (property)', () => {
    fc.assert(fc.property(fc.uint8Array({maxLength: 300}), fc.string({unit: 'binary', maxLength: 200}), (bytes, text) => {
      const out = renderTable(['KEY', 'VALUE'], [[bytes, text]])
      // eslint-disable-next-line no-control-regex
      expect(out).to.not.match(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/)
      for (const line of out.split('\n').filter((l) => l.startsWith('│'))) expect(line.length).to.be.at.most(2 * (MAX_CELL + 1) + 7)
    }), {numRuns: 150})
  })

  it('cuts a huge binary value to MAX_CELL characters with a note naming how to see everything', () => {
    const big = new Uint8Array(8 * 1024 * 1024).map((_, i) => i & 0xff)
    const out = renderTable(['KEY', 'VALUE'], [['bin/x', big], ['short', 'ok']])
    expect(out.length, 'the table stays small whatever the value').to.be.below(1000)
    expect(out).to.contain('…')
    expect(out.split('\n').at(-1)).to.equal(`(1 cell was cut at ${MAX_CELL} characters (…); --write-out json prints everything)`)
    expect(renderTable(['A'], [['x']])).to.not.contain('cut at')
    expect(hexEscaped(big, 40)).to.deep.equal({text: '\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09', cut: true})
  })
})
