/**
 * Micro-benchmark of the Raft core: proposals committed per second through a 3-node group of
 * RawNodes over MemoryStorage, with messages delivered in memory (no I/O). Each round the leader
 * takes a batch of proposals; every node then persists, sends and applies its Readies until the
 * group is quiet. Prints `entries/s: N` (entries applied by every node per second).
 *
 * Run with `npm run bench:core`. Environment: BENCH_ENTRIES (default 200000), BENCH_BATCH
 * (default 64), BENCH_SIZE (payload bytes, default 128).
 */
import {performance} from 'node:perf_hooks'
import {MemoryStorage, type Message, RawNode, StateRole} from '../src/raft/index.js'
import {envCount} from './env.js'

const TOTAL = envCount('BENCH_ENTRIES', 200_000, 1)
const BATCH = envCount('BENCH_BATCH', 64, 1)
const SIZE = envCount('BENCH_SIZE', 128, 0)
const IDS = [1, 2, 3]

interface Node {
  rn: RawNode
  storage: MemoryStorage
  applied: number
}

function makeNode(id: number): Node {
  const storage = MemoryStorage.withConfState({voters: IDS})
  const rn = new RawNode({id, electionTick: 10, heartbeatTick: 1, maxInflightMsgs: 4096, maxSizePerMsg: 1 << 20}, storage)
  return {rn, storage, applied: 0}
}

/** Processes every Ready of every node and delivers the messages until nothing is left. */
function pump(nodes: Map<number, Node>): void {
  for (;;) {
    const outbox: Message[] = []
    for (const n of nodes.values()) {
      while (n.rn.hasReady()) {
        const rd = n.rn.ready()
        if (rd.snapshot) n.storage.applySnapshot(rd.snapshot)
        n.storage.append(rd.entries)
        if (rd.hardState) n.storage.setHardState(rd.hardState)
        outbox.push(...rd.messages)
        for (const e of rd.committedEntries) if (e.data.length > 0) n.applied++
        n.rn.advance(rd)
      }
    }
    if (outbox.length === 0) return
    for (const m of outbox) nodes.get(m.to)!.rn.step(m)
  }
}

function main(): void {
  const nodes = new Map(IDS.map((id) => [id, makeNode(id)]))
  const leader = nodes.get(1)!
  leader.rn.campaign()
  pump(nodes)
  if (leader.rn.status().role !== StateRole.Leader) throw new Error('node 1 did not become leader')
  const payload = new Uint8Array(SIZE).fill(7)
  const start = performance.now()
  let proposed = 0
  while (proposed < TOTAL) {
    const n = Math.min(BATCH, TOTAL - proposed)
    for (let i = 0; i < n; i++) leader.rn.propose(payload)
    proposed += n
    pump(nodes)
    // Keep memory flat: compact the applied log.
    for (const node of nodes.values()) {
      const applied = node.rn.status().applied
      if (applied - node.storage.firstIndex() > 10_000) node.storage.compact(applied - 1000)
    }
  }
  const secs = (performance.now() - start) / 1000
  for (const [id, n] of nodes) {
    if (n.applied !== TOTAL) throw new Error(`node ${id} applied ${n.applied} of ${TOTAL} entries`)
  }
  console.log(`entries: ${TOTAL}, batch: ${BATCH}, payload: ${SIZE} bytes, nodes: ${IDS.length}, seconds: ${secs.toFixed(2)}`)
  console.log(`entries/s: ${Math.round(TOTAL / secs)}`)
}

main()
