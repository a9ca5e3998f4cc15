/**
 * A fake raftctl node for client tests: etcd's KV service answering each call with the next
 * scripted answer (then OK), the extension's NodeStatus (reporting the leader this node knows;
 * the client's probe before a write to a new endpoint and after a read that timed out), the
 * etcd's Maintenance Status and Snapshot, and etcd's Watch answering a create with
 * scripted responses, all with this node's cluster id in every header. Real gRPC on 127.0.0.1
 * (fake_server.ts).
 */
import {expect} from 'chai'
import {Metadata, type ServerDuplexStream, type ServerWritableStream, type ServiceError, status} from '@grpc/grpc-js'
import {ClientError} from '../../src/client/index.js'
import {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../../src/raftpb/metadata.js'
import {KVService} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {type WatchRequest, type WatchResponse, WatchService} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {type NodeStatusResponse, RaftctlService} from '../../src/generated/raftctl/v1/raftctl.js'
import {MaintenanceService, type SnapshotResponse, type StatusResponse} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {FakeGrpcServer} from './fake_server.js'

/**
 * What the fake answers to one KV call: a response, an error (with a leader hint and the
 * retry-safe mark as given), nothing ('hang'), or the server stops during the call ('drop',
 * as a node killed with kill -9 would).
 */
export type Answer = {ok: true} | {code: status, details: string, leader?: string, retrySafe?: boolean} | 'hang' | 'drop'

export const unavailable = (retrySafe = false, details = 'node 1 is not the leader and no leader is known yet; retry shortly'): Answer =>
  ({code: status.UNAVAILABLE, details, retrySafe})

export const notLeader = (leader: string): Answer =>
  ({code: status.FAILED_PRECONDITION, details: `this node is not the leader; the leader is at ${leader}`, leader})

type Callback = (err: Partial<ServiceError> | null, res?: unknown) => void

export class FakeKv extends FakeGrpcServer {
  /** The KV methods called, in order. */
  readonly calls: string[] = []
  script: Answer[] = []
  /** Status calls: the extension's NodeStatus and etcd's Maintenance Status. */
  statusCalls = 0
  /** The leader id Status reports (0: none known). */
  leader = 1
  /** Watch responses sent when a watch is created (then the stream stays open). */
  watchResponses: Array<Omit<WatchResponse, 'header'>> = []

  constructor(readonly memberId: number, readonly clusterId = 7) {
    super()
  }

  /** etcd's header of this node, as the KV answers carry it. */
  get etcdHeader(): {clusterId: bigint, memberId: bigint, revision: number, raftTerm: number} {
    return {clusterId: BigInt(this.clusterId), memberId: BigInt(this.memberId), revision: 1, raftTerm: 1}
  }

  async listen(): Promise<this> {
    this.addService(RaftctlService, {
      nodeStatus: (_call: unknown, cb: Callback) => {
        this.statusCalls++
        const st: NodeStatusResponse = {
          header: this.etcdHeader, id: this.memberId, name: `node${this.memberId}`, version: '0.1.0', raftState: 0, role: 0,
          leader: this.leader, raftTerm: 1, raftCommitIndex: 1, raftAppliedIndex: 1, raftFirstIndex: 1, raftLastIndex: 1,
          snapshotIndex: 0, dbSize: 0, confState: undefined, peers: [], errors: [],
        }
        cb(null, st)
      },
    })
    this.addService(MaintenanceService, {
      status: (_call: unknown, cb: Callback) => {
        this.statusCalls++
        const st: StatusResponse = {
          header: this.etcdHeader, version: '0.1.0', dbSize: 0, leader: BigInt(this.leader), raftIndex: 1, raftTerm: 1, raftAppliedIndex: 1,
          errors: [], dbSizeInUse: 0, isLearner: false,
        }
        cb(null, st)
      },
      snapshot: (call: ServerWritableStream<unknown, SnapshotResponse>) => {
        call.write({header: this.etcdHeader, remainingBytes: 0, blob: new Uint8Array(0)})
        call.end()
      },
    })
    this.addService(WatchService, {
      watch: (call: ServerDuplexStream<WatchRequest, WatchResponse>) => {
        call.on('data', () => {
          for (const r of this.watchResponses) call.write({header: this.etcdHeader, ...r})
        })
      },
    })
    await this.serve(KVService, {
      range: this.answer('range'), put: this.answer('put'), deleteRange: this.answer('deleteRange'), txn: this.answer('txn'),
    })
    return this
  }

  private answer(method: string) {
    return (_call: unknown, cb: Callback): void => {
      this.calls.push(method)
      const a = this.script.shift() ?? {ok: true}
      if (a === 'hang') return
      if (a === 'drop') {
        this.close()
        return
      }
      if ('ok' in a) {
        cb(null, method === 'range' ? {header: this.etcdHeader, kvs: [], more: false, count: 0} : {header: this.etcdHeader})
        return
      }
      const md = new Metadata()
      if (a.leader !== undefined) md.set(LEADER_HINT_KEY, a.leader)
      if (a.retrySafe === true) md.set(RETRY_SAFE_KEY, '1')
      cb({code: a.code, details: a.details, metadata: md})
    }
  }
}

/** Awaits `p`, which must fail with a ClientError, and returns that error. */
export async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p
  } catch (err) {
    expect(err).to.be.instanceOf(ClientError)
    return err as ClientError
  }
  throw new Error('expected the call to fail')
}
