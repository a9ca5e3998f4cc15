/**
 * Opening a node's data dir, in one of four ways:
 *
 * - restart: the data dir exists. Everything comes from disk; --initial-cluster,
 *   --initial-cluster-state and --join are ignored (and the log says so). The stored node id must
 *   equal --id, or the node refuses to start.
 * - new cluster: the data dir is created with the cluster id derived from --initial-cluster
 *   (storage/cluster_id.ts) and an initial snapshot at index 1, term 1 whose ConfState makes every
 *   founding member a voter and whose members carry their peer URLs. Every founding node builds
 *   the same snapshot, so their logs agree at index 1 and start at index 2: a node added later,
 *   with an empty log, always catches up from a snapshot (the core refuses any snapshot that does
 *   not name it, and the Snapshotter makes sure the one it gets does).
 * - join (--join): the cluster adds this node as a learner (join.ts); the data dir is created
 *   with the cluster id and member list of the answer, and an empty ConfState. The node then
 *   waits for the leader's snapshot.
 * - existing (--initial-cluster-state existing, after `raftctl member add`): the node asks the
 *   members in --initial-cluster for the cluster id and member list (PeerInfo.Identify), must
 *   find itself in it, and proceeds as a joining node.
 *
 * A crash between creating a new data dir and writing its initial snapshot leaves a dir with an
 * identity and nothing else; starting again finishes the bootstrap. A dir whose creation failed
 * before that (a full or read-only disk, a crash) holds no database or an empty one, and is
 * created again (storage dataDirCreated).
 *
 * Before a restarting node or a new founding node serves, it makes sure it belongs
 * (peer_check.ts): a data dir whose configuration no longer names the node (it applied its own
 * removal), or whose peers — its members and those named in --initial-cluster, asked within
 * START_CHECK_TIMEOUT_MS — all belong to another cluster or removed it, stops the start with one
 * line (MembershipLostError), and a new data dir is then not created.
 */
import {encodeSnapshotFile, type KvStore, type SnapshotRecord, writeFileAtomic} from '../kv/index.js'
import {openStateMachine, type LeaseStore} from '../lease/index.js'
import {EMPTY_CONF_STATE, type SnapshotMetadata} from '../raft/index.js'
import {clusterIdFor, dataDirCreated, type MemberInfo, RaftStorage} from '../storage/index.js'
import type {ServerConfig} from './config.js'
import {identifyCluster, joinCluster} from './join.js'
import type {NodeLogger} from './logger.js'
import {checkMembership, peerAddresses, type SelfView} from './peer_check.js'

/** How long a starting node waits for its peers to say which cluster they belong to. */
export const START_CHECK_TIMEOUT_MS = 3000

export type StartMode = 'restart' | 'new' | 'join' | 'existing'

export interface OpenedData {
  readonly storage: RaftStorage
  readonly kv: KvStore
  /** The replicated leases (the kv store's lease hooks). */
  readonly leases: LeaseStore
  readonly mode: StartMode
}

/** The member metadata every founding node writes into the initial snapshot (identical everywhere). */
export function foundingMembers(cfg: ServerConfig): MemberInfo[] {
  return [...cfg.initialCluster].sort((a, b) => a.id - b.id)
    .map((m) => ({id: m.id, name: `node${m.id}`, peerUrls: [m.peerUrl], clientUrls: []}))
}

/** Opens (creating when needed) the data dir of `cfg`; see the module comment. */
export async function openNodeData(cfg: ServerConfig, log: NodeLogger, signal?: AbortSignal): Promise<OpenedData> {
  const open = (o: Parameters<typeof RaftStorage.open>[1]) =>
    RaftStorage.open(cfg.dataDir, {...o, compactTrailing: cfg.snapshotCatchUpEntries})
  if (await dataDirCreated(cfg.dataDir)) {
    const storage = await open({nodeId: cfg.id})
    const {kv, leases} = await openStateMachine(storage)
    if (unfinishedBootstrap(storage) && cfg.join === undefined && cfg.initialClusterState === 'new') {
      log.info({event: 'bootstrap-resumed', dataDir: cfg.dataDir}, 'finishing the bootstrap of a new data dir that was interrupted')
      await writeInitialSnapshot(storage, kv, cfg)
      return {storage, kv, leases, mode: 'new'}
    }
    log.info({event: 'restart', dataDir: cfg.dataDir, clusterId: storage.clusterId, applied: storage.applied.index,
      term: storage.hardState.term, voters: storage.confState.voters, learners: storage.confState.learners},
    'data dir exists: resuming from disk; --initial-cluster, --initial-cluster-state and --join are ignored ' +
    '(except that the members --initial-cluster names are asked which cluster they belong to)')
    const self: SelfView = {id: cfg.id, clusterId: storage.clusterId, dataDir: cfg.dataDir, confState: storage.confState, applied: storage.applied.index}
    try {
      await refuseUnlessMember(self, storage.members(), cfg, log, signal)
    } catch (err) {
      await kv.close()
      await storage.close()
      throw err
    }
    return {storage, kv, leases, mode: 'restart'}
  }
  if (cfg.join !== undefined || cfg.initialClusterState === 'existing') {
    const mode: StartMode = cfg.join !== undefined ? 'join' : 'existing'
    const info = cfg.join !== undefined ? await joinCluster(cfg, log, signal) : await identifyCluster(cfg, log, signal)
    const storage = await open({
      clusterId: info.clusterId, nodeId: cfg.id, create: true,
      bootstrap: {confState: EMPTY_CONF_STATE, members: info.members},
    })
    log.info({event: 'data-dir-created', mode, dataDir: cfg.dataDir, clusterId: info.clusterId,
      members: info.members.map((m) => m.id)}, 'joining an existing cluster; waiting for a snapshot from the leader')
    return {storage, ...(await openStateMachine(storage)), mode}
  }
  const clusterId = clusterIdFor(cfg.initialCluster)
  const founders = foundingMembers(cfg)
  await refuseUnlessMember({id: cfg.id, clusterId, dataDir: cfg.dataDir, confState: {...EMPTY_CONF_STATE, voters: founders.map((m) => m.id)}, applied: 0},
    founders, cfg, log, signal)
  const storage = await open({clusterId, nodeId: cfg.id, create: true})
  const {kv, leases} = await openStateMachine(storage)
  await writeInitialSnapshot(storage, kv, cfg)
  log.info({event: 'bootstrapped', dataDir: cfg.dataDir, clusterId, voters: storage.confState.voters},
    'bootstrapped a new cluster')
  return {storage, kv, leases, mode: 'new'}
}

/** Throws MembershipLostError when `self` does not belong (see the module comment). */
async function refuseUnlessMember(self: SelfView, members: readonly MemberInfo[], cfg: ServerConfig, log: NodeLogger,
  signal?: AbortSignal): Promise<void> {
  const peers = peerAddresses(cfg.id, members, cfg.initialCluster)
  const lost = await checkMembership(self, peers, START_CHECK_TIMEOUT_MS, signal)
  if (lost !== undefined) throw lost
  if (peers.length > 0) log.debug({event: 'peers-checked', peers: peers.map((p) => p.address)}, 'no peer says this node does not belong')
}

/** A data dir that was created for a new cluster but has no initial snapshot yet. */
function unfinishedBootstrap(s: RaftStorage): boolean {
  const cs = s.confState
  return s.snapshot(0, 0).metadata.index === 0 && s.lastIndex() === 0 && s.members().length === 0 &&
    cs.voters.length === 0 && cs.learners.length === 0
}

/** Writes and restores the initial snapshot at index 1, term 1 (see the module comment). */
async function writeInitialSnapshot(storage: RaftStorage, kv: KvStore, cfg: ServerConfig): Promise<void> {
  const members = foundingMembers(cfg)
  const metadata: SnapshotMetadata = {
    index: 1, term: 1,
    confState: {...EMPTY_CONF_STATE, voters: members.map((m) => m.id)},
  }
  const path = storage.snapshotPath(metadata)
  async function* none(): AsyncGenerator<SnapshotRecord> {}
  await writeFileAtomic(path, encodeSnapshotFile({metadata, members, keyCount: 0, revision: 1, compactRevision: 0, clusterId: storage.clusterId}, none()))
  await kv.restoreFromFile(path)
}
