/**
 * Snapshots of a node: created automatically every `snapshotCount` applied entries, followed by
 * log compaction; streamed to followers that need one; and received from the leader.
 *
 * Builds run one at a time, in order (`serialize`): an automatic snapshot, a snapshot for a
 * follower and a snapshot download never build files concurrently. A build reads a consistent
 * RocksDB view and writes the file in the background, paced (KvStore.createSnapshot), so the
 * Ready loop and apply go on meanwhile.
 *
 * Compaction keeps `trailing` entries before the snapshot index (so slightly lagging followers
 * catch up from the log) and, on the leader, every entry a follower in Replicate state still
 * needs (storage minRetainIndex) — unless it is more than a whole snapshot interval
 * (`snapshotCount` entries) behind the new snapshot: then the snapshot serves it, and a stalled
 * follower cannot make the log grow without bound.
 *
 * Sending: a MsgSnapshot from the core names some snapshot, but the receiver only accepts one
 * whose ConfState names it, so the snapshot sent is chosen here (snapshotFor): the newest
 * snapshot that names the receiver — the latest one, looked at again after the builds queued
 * before — and only when none does, a new one taken at the applied index (the conf change that
 * added the receiver is applied by then). A catch-up therefore costs at most one build, however
 * often the core asks. The file is streamed with PeerTransport.sendSnapshot, which reports the
 * outcome (MsgSnapStatus) through the node's snapshot-status listener; any failure before the
 * transfer starts is reported here. One transfer per peer at a time.
 *
 * Receiving: the file is verified and stored (KvStore.stageSnapshot), then the MsgSnapshot is
 * stepped; when the core accepts it, the next Ready restores the file atomically.
 */
import {fileChunks, type KvStore, type SnapshotInfo} from '../kv/index.js'
import {
  EMPTY_BYTES, type Message, ProgressState, type RawNode, type SnapshotMetadata, SnapshotStatus, type Status,
} from '../raft/index.js'
import {minRetainIndex, type RaftStorage} from '../storage/index.js'
import type {PeerTransport} from '../transport/index.js'
import type {NodeLoop} from './loop.js'
import type {NodeLogger} from './logger.js'
import {confStateIds} from './member_status.js'
import type {AppliedWaiters} from './proposals.js'

export interface SnapshotterDeps {
  readonly storage: RaftStorage
  readonly kv: KvStore
  readonly transport: PeerTransport
  readonly loop: NodeLoop
  readonly log: NodeLogger
  readonly applied: AppliedWaiters
  /** Applied entries between automatic snapshots. */
  readonly snapshotCount: number
  /** Entries kept before the snapshot index when compacting. */
  readonly trailing: number
  /** The core's status (progress is present on the leader). */
  readonly status: () => Status
  /** How long a received snapshot may take to be applied before the sender is told it failed. */
  readonly applyTimeoutMs: number
}

/**
 * The lowest log index compaction after a snapshot at `snapIndex` must keep, or undefined when
 * nothing constrains it (a follower, or a leader without replicating followers). On the leader it
 * is the first entry a follower in Replicate state still needs (match + 1), counting only the
 * followers at most `snapshotCount` entries behind the snapshot: one further behind is served by
 * the snapshot instead, so a stalled follower cannot make the log grow without bound. Followers
 * in Probe or Snapshot state are not counted; the leader serves them from a snapshot if needed.
 */
export function compactionFloor(st: Status, snapIndex: number, snapshotCount: number): number | undefined {
  const followers = [...(st.progress ?? new Map()).entries()]
    .filter(([id, pr]) => id !== st.id && pr.match + snapshotCount >= snapIndex)
    .map(([, pr]) => ({match: pr.match, replicating: pr.state === ProgressState.Replicate}))
  return minRetainIndex(followers)
}

export class Snapshotter {
  private chain: Promise<unknown> = Promise.resolve()
  /** Builds queued or running on `chain`. */
  private builds = 0
  private readonly sending = new Set<number>()
  /** Snapshot files being received and written (settled: they never reject). */
  private readonly staging = new Set<Promise<unknown>>()
  private closed = false

  constructor(private readonly d: SnapshotterDeps) {}

  /** Starts a snapshot (and compaction) when enough entries were applied since the last one. */
  maybeSnapshot(): void {
    const applied = this.d.storage.applied.index
    const snap = this.latest().index
    if (this.builds > 0 || this.closed || applied - snap < this.d.snapshotCount) return
    // Entries applied while this snapshot is written may complete another interval with no
    // Ready left to notice it, so look again once it is done.
    void this.create('snapshot-count').then(() => this.maybeSnapshot(), () => {})
  }

  /** Takes a snapshot now (if anything was applied since the last one), then compacts. */
  create(reason: string): Promise<SnapshotInfo> {
    return this.serialize(() => this.build(reason))
  }

  /**
   * The snapshot to send to node `to`: the newest one whose ConfState names it (see the module
   * comment). Builds a new one only when neither the latest snapshot nor the one left by the
   * builds queued before names `to`.
   */
  snapshotFor(to: number): Promise<SnapshotMetadata> {
    const naming = (): SnapshotMetadata | undefined => {
      const meta = this.latest()
      return confStateIds(meta.confState).includes(to) ? meta : undefined
    }
    const ready = naming()
    if (ready !== undefined) return Promise.resolve(ready)
    return this.serialize(async () => {
      const built = naming() ?? (await this.build(`node ${to} is not in the latest snapshot`)).metadata
      if (!confStateIds(built.confState).includes(to)) {
        throw new Error(`no snapshot names node ${to} yet (the latest is at index ${built.index})`)
      }
      return built
    })
  }

  private latest(): SnapshotMetadata {
    return this.d.storage.snapshot(0, 0).metadata
  }

  /** Runs `fn` after every build queued before it has finished. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    this.builds++
    const run = async (): Promise<T> => {
      try {
        return await fn()
      } finally {
        this.builds--
      }
    }
    const p = this.chain.then(run, run)
    this.chain = p.catch(() => {})
    return p
  }

  /** Builds a snapshot at the applied index (nothing when the latest covers it), then compacts. */
  private async build(reason: string): Promise<SnapshotInfo> {
    const started = Date.now()
    try {
      const info = await this.d.kv.createSnapshot()
      if (info.created) {
        this.d.log.info({event: 'snapshot-created', reason, index: info.metadata.index, term: info.metadata.term,
          bytes: info.size, ms: Date.now() - started, voters: info.metadata.confState.voters, learners: info.metadata.confState.learners}, 'snapshot created')
        await this.compact(info.metadata.index)
      }
      return info
    } catch (err) {
      this.d.log.error({event: 'snapshot-failed', reason, error: (err as Error).message}, 'creating a snapshot failed')
      throw err
    }
  }

  private async compact(snapIndex: number): Promise<void> {
    const retain = compactionFloor(this.d.status(), snapIndex, this.d.snapshotCount)
    const before = this.d.storage.firstIndex()
    const to = await this.d.storage.compact(snapIndex, {minRetainIndex: retain, trailing: this.d.trailing})
    if (to + 1 > before) {
      this.d.log.info({event: 'log-compacted', firstIndex: to + 1, snapshotIndex: snapIndex}, 'raft log compacted')
    }
  }

  /** Streams the snapshot of MsgSnapshot `m` to its receiver (see the module comment). */
  async send(m: Message): Promise<void> {
    const to = m.to
    if (this.sending.has(to) || this.closed) return
    this.sending.add(to)
    let handedOver = false
    try {
      const meta = await this.snapshotFor(to)
      const msg: Message = {...m, snapshot: {data: EMPTY_BYTES, metadata: meta}}
      handedOver = true
      await this.d.transport.sendSnapshot(to, msg, fileChunks(this.d.storage.snapshotPath(meta)))
    } catch (err) {
      const code = (err as {code?: string}).code
      if (!handedOver || code === 'CLOSED' || code === 'BAD_MESSAGE') this.reportFailure(to, err)
    } finally {
      this.sending.delete(to)
    }
  }

  private reportFailure(to: number, err: unknown): void {
    this.d.log.warn({event: 'snapshot-send-failed', peer: to, reason: (err as Error).message}, 'snapshot not sent')
    this.d.loop.post((rn: RawNode) => rn.reportSnapshot(to, SnapshotStatus.Failure))
  }

  /**
   * Receives a snapshot from the leader: stores and verifies the file, steps the MsgSnapshot and
   * resolves once the snapshot is applied (or the core decided it does not need it).
   */
  async receive(msg: Message, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const meta = msg.snapshot!.metadata
    const staged = this.d.kv.stageSnapshot(meta, chunks)
    const settled = staged.catch(() => {})
    this.staging.add(settled)
    void settled.then(() => this.staging.delete(settled))
    await staged
    this.d.log.info({event: 'snapshot-received', peer: msg.from, index: meta.index, term: meta.term}, 'snapshot received')
    await this.d.loop.call((rn) => rn.step(msg))
    await this.d.applied.wait(meta.index, this.d.applyTimeoutMs, `applying the snapshot at index ${meta.index}`)
  }

  /**
   * Waits, at most `timeoutMs`, for the snapshot files being received to be written or given up.
   * Called on stop after the peer server cancelled its transfers, so that an interrupted transfer
   * removes its temporary file before the process exits instead of leaving it for the next start.
   */
  async stagingSettled(timeoutMs: number): Promise<void> {
    if (this.staging.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
    await Promise.race([Promise.all([...this.staging]), timeout])
    clearTimeout(timer)
  }

  /** Waits for a snapshot being created; no new automatic snapshot starts afterwards. */
  async close(): Promise<void> {
    this.closed = true
    await this.chain
  }
}
