/** The text forms of `raftctl kv txn` compares and operations (src/cli/kv_txn.ts). */
import {expect} from 'chai'
import {parseCompare, parseOp, tokenize, TxnSyntaxError} from '../../src/cli/kv_txn.js'
import {Compare_CompareResult as R, Compare_CompareTarget as T} from '../../src/generated/etcd/etcdserverpb/kv.js'

const b = (s: string): Uint8Array => new TextEncoder().encode(s)
const EMPTY = new Uint8Array(0)
const err = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).to.be.instanceOf(TxnSyntaxError)
    return (e as Error).message
  }
  throw new Error('expected a TxnSyntaxError')
}

describe('kv txn syntax', () => {
  it('tokenizes with double and single quotes and backslash escapes', () => {
    expect(tokenize('put k v')).to.deep.equal(['put', 'k', 'v'])
    expect(tokenize('  put "a key"   \'a value\' ')).to.deep.equal(['put', 'a key', 'a value'])
    expect(tokenize('put k "say \\"hi\\""')).to.deep.equal(['put', 'k', 'say "hi"'])
    expect(tokenize('put k ""')).to.deep.equal(['put', 'k', ''])
    expect(err(() => tokenize('put k "open'))).to.equal('"put k "open" has an unclosed " quote')
  })

  it('parses every compare target and operator', () => {
    expect(parseCompare('value(cfg/a) = blue')).to.deep.equal({result: R.EQUAL, target: T.VALUE, key: b('cfg/a'), rangeEnd: EMPTY, value: b('blue')})
    expect(parseCompare('value("a b") != "x y"')).to.deep.include({result: R.NOT_EQUAL, key: b('a b'), value: b('x y')})
    expect(parseCompare('version(k) > 2')).to.deep.include({result: R.GREATER, target: T.VERSION, version: 2n})
    expect(parseCompare('ver(k)==0')).to.deep.include({result: R.EQUAL, target: T.VERSION, version: 0n})
    expect(parseCompare('create(k) < 10')).to.deep.include({result: R.LESS, target: T.CREATE, createRevision: 10n})
    expect(parseCompare('c(k) < 10')).to.deep.include({target: T.CREATE, createRevision: 10n})
    expect(parseCompare('mod(k) != 7')).to.deep.include({result: R.NOT_EQUAL, target: T.MOD, modRevision: 7n})
    expect(parseCompare('m(k) = 7')).to.deep.include({target: T.MOD, modRevision: 7n})
    // etcd has no exists target: exists is version > 0, not existing is version = 0 (etcd's idiom).
    expect(parseCompare('exists(k) = true')).to.deep.equal({result: R.GREATER, target: T.VERSION, key: b('k'), version: 0n, rangeEnd: EMPTY})
    expect(parseCompare('exists(k) != false')).to.deep.include({result: R.GREATER, target: T.VERSION, version: 0n})
    expect(parseCompare('exists(k) = false')).to.deep.include({result: R.EQUAL, target: T.VERSION, version: 0n})
    expect(parseCompare('exists(k) != true')).to.deep.include({result: R.EQUAL, target: T.VERSION, version: 0n})
  })

  it('names what is wrong with a compare', () => {
    expect(err(() => parseCompare('k = v'))).to.equal('compare "k = v" is not TARGET(KEY) OP VALUE, e.g. \'value(k) = v\' or \'version(k) > 2\'')
    expect(err(() => parseCompare('size(k) = 1'))).to.equal('compare "size(k) = 1": unknown target "size"; use value, version, create, mod or exists')
    expect(err(() => parseCompare('value() = 1'))).to.equal('compare "value() = 1": give exactly one non-empty key in the parentheses')
    expect(err(() => parseCompare('value(a b) = 1'))).to.equal('compare "value(a b) = 1": give exactly one non-empty key in the parentheses')
    expect(err(() => parseCompare('value(k) = a b'))).to.equal('compare "value(k) = a b": give exactly one value after = (quote it if it has spaces)')
    expect(err(() => parseCompare('version(k) > -1'))).to.equal('compare "version(k) > -1": "-1" is not a non-negative integer')
    expect(err(() => parseCompare('mod(k) > 99999999999999999999'))).to.equal('compare "mod(k) > 99999999999999999999": "99999999999999999999" is not a non-negative integer')
    expect(err(() => parseCompare('exists(k) > true'))).to.equal('compare "exists(k) > true": exists takes only = or !=')
    expect(err(() => parseCompare('exists(k) = yes'))).to.equal('compare "exists(k) = yes": exists compares with true or false, not "yes"')
  })

  it('parses put, get and del operations with their options', () => {
    const put = {lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}
    const range = {revision: 0, sortOrder: 0, sortTarget: 0, serializable: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0}
    expect(parseOp('put k v')).to.deep.equal({requestPut: {key: b('k'), value: b('v'), ...put}})
    expect(parseOp('put "a key" ""')).to.deep.equal({requestPut: {key: b('a key'), value: EMPTY, ...put}})
    expect(parseOp('get k')).to.deep.equal({requestRange: {key: b('k'), rangeEnd: EMPTY, limit: 0, keysOnly: false, countOnly: false, ...range}})
    expect(parseOp('get cfg/ --prefix --limit 5 --keys-only')).to.deep.equal({requestRange: {key: b('cfg/'), rangeEnd: b('cfg0'), limit: 5,
      keysOnly: true, countOnly: false, ...range}})
    expect(parseOp('get k --count-only').requestRange).to.deep.include({countOnly: true})
    expect(parseOp('del k')).to.deep.equal({requestDeleteRange: {key: b('k'), rangeEnd: EMPTY, prevKv: false}})
    expect(parseOp('delete k --prefix')).to.deep.equal({requestDeleteRange: {key: b('k'), rangeEnd: b('l'), prevKv: false}})
  })

  it('takes etcd\'s idioms in get and del: --from-key, and "" with --prefix or --from-key for every key', () => {
    const ZERO = Uint8Array.of(0)
    expect(parseOp('get m --from-key').requestRange).to.deep.include({key: b('m'), rangeEnd: ZERO})
    expect(parseOp('get "" --prefix --keys-only').requestRange).to.deep.include({key: ZERO, rangeEnd: ZERO, keysOnly: true})
    expect(parseOp('del "" --from-key')).to.deep.equal({requestDeleteRange: {key: ZERO, rangeEnd: ZERO, prevKv: false}})
    expect(err(() => parseOp('get ""'))).to.equal('operation "get """ needs a non-empty key (or "" with --prefix or --from-key for every key)')
    expect(err(() => parseOp('put "" v'))).to.equal('operation "put "" v" needs a non-empty key')
    expect(err(() => parseOp('del k --prefix --from-key'))).to.equal('operation "del k --prefix --from-key": give --prefix or --from-key, not both')
  })

  it('names what is wrong with an operation', () => {
    expect(err(() => parseOp(''))).to.equal('an operation is empty; use put KEY VALUE, get KEY or del KEY')
    expect(err(() => parseOp('put'))).to.equal('operation "put" needs a non-empty key')
    expect(err(() => parseOp('put k'))).to.equal('operation "put k": put takes KEY VALUE (quote a value with spaces)')
    expect(err(() => parseOp('put k a b'))).to.equal('operation "put k a b": put takes KEY VALUE (quote a value with spaces)')
    expect(err(() => parseOp('get k --limit x'))).to.equal('operation "get k --limit x": --limit needs a non-negative integer')
    expect(err(() => parseOp('get k --limit'))).to.equal('operation "get k --limit": --limit needs a non-negative integer')
    expect(err(() => parseOp('del k --limit 2'))).to.equal('operation "del k --limit 2": unexpected "--limit" (allowed here: --prefix --from-key)')
    expect(err(() => parseOp('set k v'))).to.equal('operation "set k v": unknown verb "set"; use put, get or del')
  })
})
