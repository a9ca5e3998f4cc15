/**
 * Our generated codecs (src/generated/etcd) and etcd's protos agree byte for byte: messages
 * encoded by us decode with the serializers the etcd3 client itself uses (its protos through its
 * @grpc/proto-loader and protobufjs), and the other way, with every field set and 64-bit ids
 * beyond 2^53 (beyond 2^63 for uint64). Lock and Election go through etcd 3.4's own protos.
 */
import {isDeepStrictEqual} from 'node:util'
import {expect} from 'chai'
import type {Field, Type} from 'protobufjs'
import {RangeRequest} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {debianDefinition, debianRoot, etcd3Definition, etcd3Root, ourCodecs, oursRoot, type PackageDefinition, type Root} from './protos.js'
import {messageTypes, sampleObject, variantCount} from './schema.js'
import {KV_WATCH_LEASE_CASES, type WireCase} from './wire_cases.js'
import {ADMIN_CASES, LOCK_ELECTION_CASES} from './wire_cases_admin.js'

interface MethodDef {
  requestSerialize(v: unknown): Buffer
  requestDeserialize(b: Buffer): unknown
  responseSerialize(v: unknown): Buffer
  responseDeserialize(b: Buffer): unknown
}

function methodOf(def: PackageDefinition, path: string): MethodDef {
  const [service, method] = path.split('/')
  const m = (def[service] as Record<string, unknown> | undefined)?.[method]
  if (m === undefined) throw new Error(`the reference protos have no method ${path}`)
  return m as MethodDef
}

/** Bytes as hex text and undefined members dropped, so both shapes compare field by field. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`
  if (Array.isArray(v)) return v.map(normalize)
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, normalize(x)]))
  }
  return v
}

function checkCase(def: PackageDefinition, c: WireCase): void {
  const m = methodOf(def, c.method)
  const [serialize, deserialize] = c.side === 'request'
    ? [m.requestSerialize, m.requestDeserialize]
    : [m.responseSerialize, m.responseDeserialize]
  const ourBytes = Buffer.from(c.codec.encode(c.ours).finish())
  expect(normalize(deserialize(ourBytes)), 'encoded by us, decoded by etcd3').to.deep.equal(normalize(c.etcd3))
  expect(normalize(c.codec.decode(serialize(c.etcd3))), 'encoded by etcd3, decoded by us').to.deep.equal(normalize(c.ours))
}

/** Whether our generated code maps this 64-bit field to number (`[jstype = JS_NUMBER]` in proto/etcd). */
function isJsNumber(f: Field): boolean {
  const ours = oursRoot().lookupType(f.parent!.fullName).fields[f.name]
  return ours?.options?.jstype === 'JS_NUMBER'
}

/**
 * Encodes a sample of every message of `ref` (every field set, each oneof member in turn) with
 * the reference protos, decodes and re-encodes it with our codec, and decodes that with the
 * reference again; returns one line per message that came back different.
 */
function roundTripAll(ref: Root): {checked: number, failures: string[]} {
  const codecs = ourCodecs()
  const opts = {longs: String, enums: Number, bytes: String, oneofs: true}
  const failures: string[] = []
  let checked = 0
  for (const type of messageTypes(ref)) {
    const name = type.fullName.slice(1)
    const codec = codecs.get(name)
    if (codec === undefined) {
      failures.push(`${name}: no generated codec`)
      continue
    }
    for (let v = 0; v < variantCount(type); v++) {
      const want = type.fromObject(sampleObject(type, v, isJsNumber))
      const back = (type as Type).decode(codec.encode(codec.decode(type.encode(want).finish())).finish())
      const [a, b] = [type.toObject(back, opts), type.toObject(want, opts)]
      if (!isDeepStrictEqual(a, b)) failures.push(`${name} (variant ${v}): sent ${JSON.stringify(b)}, got back ${JSON.stringify(a)}`)
      checked++
    }
  }
  return {checked, failures}
}

describe('compat: our generated etcd codecs and etcd clients read each other', () => {
  describe('representative messages of KV, Watch and Lease, through the etcd3 client\'s serializers', () => {
    for (const c of KV_WATCH_LEASE_CASES) it(c.name, () => checkCase(etcd3Definition(), c))
  })

  describe('representative messages of Cluster, Maintenance and Auth, through the etcd3 client\'s serializers', () => {
    for (const c of ADMIN_CASES) it(c.name, () => checkCase(etcd3Definition(), c))
  })

  describe('representative messages of Lock and Election, through etcd 3.4\'s protos', () => {
    for (const c of LOCK_ELECTION_CASES) {
      it(c.name, function () {
        const def = debianDefinition()
        if (def === undefined) this.skip() // etcd 3.4's protos are missing: apt-get install golang-etcd-server-dev (.ci/run does)
        checkCase(def!, c)
      })
    }
  })

  describe('every message, all fields set', () => {
    it('every message of the etcd3 client\'s protos survives a trip through our codec', () => {
      const {checked, failures} = roundTripAll(etcd3Root())
      expect(failures).to.deep.equal([])
      expect(checked).to.be.greaterThan(110)
    })

    it('every message of etcd 3.4\'s protos (Lock and Election included) survives a trip through our codec', function () {
      const root = debianRoot()
      if (root === undefined) this.skip() // etcd 3.4's protos are missing: apt-get install golang-etcd-server-dev (.ci/run does)
      const {checked, failures} = roundTripAll(root!)
      expect(failures).to.deep.equal([])
      expect(checked).to.be.greaterThan(120)
    })
  })

  describe('64-bit fields', () => {
    it('a revision beyond 2^53 fails to decode instead of being rounded', () => {
      const bytes = methodOf(etcd3Definition(), 'etcdserverpb.KV/Range').requestSerialize({key: Buffer.from('a'), revision: '9007199254740993'})
      expect(() => RangeRequest.decode(bytes)).to.throw('Value is larger than Number.MAX_SAFE_INTEGER')
    })

    it('no id is mapped to number: member, cluster, lease, watch and leader ids stay bigint', () => {
      const numbered: string[] = []
      for (const type of messageTypes(oursRoot())) {
        for (const f of type.fieldsArray) {
          if (/(^|_)id$|ID$|lease|leader|member/i.test(f.name) && f.options?.jstype === 'JS_NUMBER') numbered.push(`${type.name}.${f.name}`)
        }
      }
      expect(numbered).to.deep.equal([])
    })
  })
})
