/**
 * Forwarding a whole unary call to the leader. etcd's Cluster calls and raftctl's extension
 * calls are checked on the leader — only it knows which members are reachable and how far each
 * has replicated — yet any member must serve them, since etcd clients do not follow redirects.
 * A member that does not lead sends the call, as it came, to the leader's client URL (from the
 * member metadata) with the caller's remaining deadline, and answers with the leader's answer or
 * error unchanged.
 *
 * - Without a known leader it waits for one until the deadline (or refuses at once with etcd's
 *   "no leader" when the caller asked with `hasleader`), as a proposal does.
 * - A forwarded call carries `raftctl-forwarded: 1`; a member that gets one but does not lead
 *   (leadership moved meanwhile) answers etcd's "not leader", safe to retry, instead of sending it
 *   on: at most one hop, never a loop.
 * - The call is sent only once the channel to the leader is connected, so a leader that cannot
 *   be reached (down, or not yet known to be replaced) was certainly not asked: the member tries
 *   again until the deadline, then answers "request timed out", safe to retry. Once sent, any
 *   failure may have happened after the leader acted, so it is passed on without the mark.
 */
import {Client, credentials, Metadata, type MethodDefinition, type ServiceError, status} from '@grpc/grpc-js'
import {FORWARDED_KEY, REQUIRE_LEADER_KEY} from '../raftpb/metadata.js'
import {etcdError, RemoteError} from './errors.js'
import type {RaftNode} from './node.js'
import {answerMargin, awaitLeader, type RequestOptions} from './requests.js'

/** The largest message a forwarded call may carry either way (Cluster and extension calls are small). */
const MAX_MESSAGE_BYTES = 16 << 20
/** How long one attempt waits for the channel to the leader before checking who leads again. */
const CONNECT_ATTEMPT_MS = 500

/** True when `md` marks a call that a member forwarded already. */
export const isForwarded = (md: Metadata): boolean => md.get(FORWARDED_KEY)[0] === '1'

/** The caller's metadata that the leader must see too: raftctl's keys and etcd's `hasleader`. */
function forwardedMetadata(md: Metadata): Metadata {
  const out = new Metadata()
  for (const [key, values] of Object.entries(md.getMap())) {
    if (key.startsWith('raftctl-') || key === REQUIRE_LEADER_KEY) out.set(key, values)
  }
  out.set(FORWARDED_KEY, '1')
  return out
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export class LeaderForwarder {
  private conn: {readonly url: string, readonly client: Client} | undefined
  private closed = false

  constructor(private readonly node: RaftNode) {}

  /**
   * Runs `local` when this node leads, else forwards the call to the leader; see the module
   * comment. `timeoutMs` is the caller's remaining time.
   */
  async onLeader<Req, Res>(method: MethodDefinition<Req, Res>, req: Req, md: Metadata, timeoutMs: number,
    opts: RequestOptions, local: (timeoutMs: number) => Promise<Res>): Promise<Res> {
    const node = this.node
    const deadline = Date.now() + timeoutMs
    let problem = 'no leader was known'
    for (let attempt = 0; ; attempt++) {
      const left = deadline - Date.now()
      if (node.isLeader) return local(Math.max(1, left))
      if (isForwarded(md)) {
        throw etcdError('notLeader', `node ${node.id} got a call forwarded to the leader but does not lead now ` +
          `(the leader is node ${node.leaderId || 'unknown'}); nothing was done, so it is safe to retry`, {retrySafe: true})
      }
      if (left <= answerMargin(timeoutMs) && attempt > 0) {
        throw etcdError('timeout', `node ${node.id} could not forward the request to the leader within ${timeoutMs} ms: ${problem}; ` +
          'nothing was done, so it is safe to retry', {retrySafe: true})
      }
      const leader = await awaitLeader(node, Math.max(1, left - answerMargin(timeoutMs)), opts)
      if (leader === node.id) continue
      const url = node.clientUrlOf(leader)
      if (url === undefined) {
        problem = `the leader, node ${leader}, has not published its client URL yet`
        await sleep(Math.min(100, Math.max(1, left)))
        continue
      }
      const client = this.client(url)
      if (!await this.connected(client, Math.min(CONNECT_ATTEMPT_MS, Math.max(1, left - answerMargin(timeoutMs))))) {
        problem = `the leader, node ${leader} at ${url}, could not be reached`
        continue
      }
      // The leader answers its own timeouts before this deadline, and this node before the caller's.
      const callDeadline = deadline - Math.floor(answerMargin(timeoutMs) / 2)
      return this.call(client, method, req, forwardedMetadata(md), callDeadline, leader)
    }
  }

  /** Closes the channel to the leader; later calls fail. */
  close(): void {
    this.closed = true
    this.conn?.client.close()
    this.conn = undefined
  }

  /** The client of `url`, replacing the one of a former leader. */
  private client(url: string): Client {
    if (this.closed) throw etcdError('stopped', `node ${this.node.id} is stopping; send the request to another member`, {retrySafe: true})
    if (this.conn?.url === url) return this.conn.client
    this.conn?.client.close()
    const client = new Client(url, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    })
    this.conn = {url, client}
    return client
  }

  /** Resolves true once the channel is connected, false when it could not connect within `ms`. */
  private connected(client: Client, ms: number): Promise<boolean> {
    return new Promise((resolve) => client.waitForReady(Date.now() + ms, (err) => resolve(err === undefined || err === null)))
  }

  /** Sends the call; its answer or error is the leader's (RemoteError), or a timeout of ours. */
  private call<Req, Res>(client: Client, method: MethodDefinition<Req, Res>, req: Req, md: Metadata, deadline: number,
    leader: number): Promise<Res> {
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req, md, {deadline},
        (err: ServiceError | null, res?: Res) => {
          if (err === null) resolve(res as Res)
          else if (err.code === status.DEADLINE_EXCEEDED && Date.now() >= deadline - 5) {
            reject(etcdError('timeout', `the leader, node ${leader}, did not answer the forwarded request in time; ` +
              'its outcome is unknown (it may still be applied), so check before repeating it'))
          } else reject(new RemoteError(err))
        })
    })
  }
}
