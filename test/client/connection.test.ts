import {expect} from 'chai'
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {ClusterClient} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import {KVClient} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {MaintenanceClient} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {ClusterConnection} from '../../src/client/connection.js'
import {isConnectFailure, isRetrySafe, RETRY_SAFE_KEY} from '../../src/client/rpc.js'

const err = (code: status, details: string, md = new Metadata()): ServiceError =>
  Object.assign(new Error(details), {code, details, metadata: md}) as ServiceError

describe('client/connection', () => {
  it('keeps one client per service and endpoint (generated constructors share a name)', () => {
    const c = new ClusterConnection(['127.0.0.1:1', '127.0.0.1:2'], {timeoutMs: 100})
    try {
      const kv = c.client(KVClient, '127.0.0.1:1')
      expect(typeof kv.put).to.equal('function')
      expect(typeof c.client(MaintenanceClient, '127.0.0.1:1').status).to.equal('function')
      expect(typeof c.client(ClusterClient, '127.0.0.1:1').memberAdd).to.equal('function')
      expect(c.client(KVClient, '127.0.0.1:1')).to.equal(kv)
      expect(c.client(KVClient, '127.0.0.1:2')).to.not.equal(kv)
    } finally {
      c.close()
    }
  })

  it('treats only a connection that was never made as undelivered', () => {
    expect(isConnectFailure(err(status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1'))).to.equal(true)
    expect(isConnectFailure(err(status.UNAVAILABLE, 'Connection dropped'))).to.equal(false)
    expect(isConnectFailure(err(status.FAILED_PRECONDITION, 'connect ECONNREFUSED'))).to.equal(false)
  })

  it('reads the retry-safe marker', () => {
    const md = new Metadata()
    md.set(RETRY_SAFE_KEY, '1')
    expect(isRetrySafe(err(status.UNAVAILABLE, 'no leader', md))).to.equal(true)
    expect(isRetrySafe(err(status.UNAVAILABLE, 'stopping'))).to.equal(false)
  })

  it('gives up on unreachable endpoints with one clear error', async () => {
    const c = new ClusterConnection(['127.0.0.1:1', '127.0.0.1:2'], {timeoutMs: 2000})
    try {
      let e: unknown
      await c.call(KVClient, {what: 'put', method: (k) => k.put.bind(k), idempotent: false,
        request: {key: new Uint8Array([1]), value: new Uint8Array(0), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}}).catch((x) => { e = x })
      expect((e as Error).message).to.equal('cannot reach any endpoint (127.0.0.1:1, 127.0.0.1:2): no raftctl server answers')
    } finally {
      c.close()
    }
  })
})
