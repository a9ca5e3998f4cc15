/**
 * Our proto/etcd declares everything etcd's protos declare, with the same numbers and types:
 * every service and method (same request and response types, same streaming), every message and
 * field (same number, type, label and oneof) and every enum value. Checked against etcd 3.4's own
 * protos (Debian's golang-etcd-server-dev, when installed) and against the etcd3 client's (etcd
 * 3.5's KV/Watch/Lease/Cluster/Maintenance/Auth, always), and nothing of ours is invented.
 */
import {expect} from 'chai'
import {debianRoot, DEBIAN_FILES, etcd3Root, haveDebianProtos, oursRoot} from './protos.js'
import {foldEnumName, missingFrom, shapes} from './schema.js'

describe('compat: proto/etcd declares what etcd declares', () => {
  const ours = shapes(oursRoot())

  it('has every service, method, message, field and enum value of etcd 3.4 (Debian protos)', function () {
    if (!haveDebianProtos()) {
      this.skip() // etcd 3.4's protos are missing: apt-get install golang-etcd-server-dev (.ci/run does)
    }
    const ref = shapes(debianRoot()!)
    expect(ref.size, `messages parsed from ${DEBIAN_FILES.join(', ')}`).to.be.greaterThan(100)
    expect(missingFrom(ours, ref)).to.deep.equal([])
  })

  it('has every service, method, message, field and enum value of the etcd3 client protos', () => {
    const ref = shapes(etcd3Root())
    expect(ref.size).to.be.greaterThan(100)
    expect(missingFrom(ours, ref, true)).to.deep.equal([])
  })

  it('declares nothing that neither etcd 3.4 nor the etcd3 client declares', function () {
    const refs = [shapes(etcd3Root())]
    const debian = debianRoot()
    if (debian !== undefined) refs.push(shapes(debian))
    const invented: string[] = []
    for (const [name, shape] of ours) {
      const known = refs.map((r) => r.get(name)).filter((s) => s !== undefined)
      if (known.length === 0) {
        // Without Debian's protos, Lock and Election have no reference to compare with.
        if (debian === undefined && /^v3(lock|election)pb\./.test(name)) continue
        invented.push(`${shape.kind} ${name}`)
        continue
      }
      for (const member of shape.members.keys()) {
        const fold = shape.kind === 'enum' ? foldEnumName : (s: string) => s
        if (!known.some((k) => [...k.members.keys()].some((m) => fold(m) === fold(member)))) invented.push(`${name}.${member}`)
      }
    }
    expect(invented).to.deep.equal([])
  })

  it('a mismatch is reported by name (the check itself)', () => {
    const ref = shapes(etcd3Root())
    const broken = new Map(ours)
    const put = ours.get('etcdserverpb.PutRequest')!
    broken.set('etcdserverpb.PutRequest', {kind: 'message', members: new Map([...put.members, ['prev_kv', 'bool = 5']])})
    broken.delete('etcdserverpb.LeaseStatus')
    expect(missingFrom(broken, ref, true)).to.deep.equal([
      'etcdserverpb.PutRequest.prev_kv: etcd has "bool = 4", ours has "bool = 5"',
      'message etcdserverpb.LeaseStatus: missing',
    ])
  })
})
