/**
 * Offline restore of a backup into a new data dir (`raftctl snapshot restore`): the way to start
 * a NEW cluster from a snapshot file, as etcd's `snapshot restore` does.
 *
 * The backup's history (keys, revisions, compact revision), index and term are kept; its ConfState and member list are
 * replaced by the --initial-cluster (every listed node a voter, named node<id>, no learners, no
 * joint config), and the cluster id is derived from the --initial-cluster as for any new cluster
 * (storage/cluster_id.ts). The snapshot written is a pure function of the backup file and the
 * --initial-cluster, so every node restored from the same file with the same flags holds the
 * identical snapshot: their logs agree at its index and they elect a leader at a higher term.
 * `raftctl server start` with the same --id then resumes from the dir (it exists, so nothing is
 * bootstrapped).
 *
 * Atomicity: the dir is built in a sibling staging dir and renamed into place at the end, so a
 * crash never leaves a half-restored dir that `server start` could mistake for a fresh one. The
 * target must not exist or be an empty directory; the backup is verified completely (structure
 * and SHA-256) before anything is written.
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {mkdir, open, rename, rm} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {CodedError, withCode} from '../raft/errors.js'
import {EMPTY_CONF_STATE, type SnapshotMetadata} from '../raft/types.js'
import {parseEndpoint} from '../raftpb/address.js'
import {clusterIdFor} from '../storage/cluster_id.js'
import type {MemberInfo} from '../storage/records.js'
import {RaftStorage} from '../storage/raft_storage.js'
import {SnapshotFileError} from './errors.js'
import type {LeaseHooks} from './lease_hooks.js'
import {encodeSnapshotFile, type SnapshotHeaderInfo, type SnapshotRecord} from './snapshot_format.js'
import {fileChunks, parseSnapshot, verifySnapshot} from './snapshot_reader.js'
import {writeFileAtomic} from './snapshots.js'
import {KvStore} from './store.js'

/** Raised for a restore that cannot be done as asked (bad flags, non-empty dir, missing file). */
export class RestoreError extends withCode(CodedError, 'RESTORE_REFUSED') {}

/** A member of --initial-cluster. */
export interface RestoreMember {
  readonly id: number
  readonly peerUrl: string
}

export interface RestoreOptions {
  /** The backup (a snapshot file from `raftctl snapshot save` or a node's snap dir). */
  readonly snapshotPath: string
  /** The data dir to create; must not exist or be empty. */
  readonly dataDir: string
  /** This node's id; must be in `initialCluster`. */
  readonly nodeId: number
  /** The members of the new cluster. */
  readonly initialCluster: readonly RestoreMember[]
  /**
   * Opens the lease hooks of the new data dir (src/lease: LeaseStore.open), which restore the
   * backup's leases. Without them only a backup without leases can be restored.
   */
  readonly leases?: (storage: RaftStorage) => Promise<LeaseHooks>
}

export interface RestoreResult {
  readonly dataDir: string
  readonly nodeId: number
  readonly clusterId: number
  /** The cluster id of the backup (the new cluster has a different one, from --initial-cluster). */
  readonly sourceClusterId: number
  readonly index: number
  readonly term: number
  readonly revision: number
  readonly keyCount: number
  /** The number of leases restored (their TTLs start again when the new cluster elects a leader). */
  readonly leaseCount: number
  readonly voters: readonly number[]
  readonly members: readonly MemberInfo[]
}

/** Parses "1=127.0.0.1:2380,2=127.0.0.1:2382" (as `server start --initial-cluster`). */
export function parseInitialCluster(text: string): RestoreMember[] {
  const members: RestoreMember[] = []
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new RestoreError(`--initial-cluster: "${part}" is not id=host:port`)
    const idText = part.slice(0, eq).trim()
    const id = Number(idText)
    if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id) || id === 0) {
      throw new RestoreError(`--initial-cluster: member id "${idText}" is not a positive integer`)
    }
    if (members.some((m) => m.id === id)) throw new RestoreError(`--initial-cluster: member id ${id} appears twice`)
    try {
      members.push({id, peerUrl: parseEndpoint(`--initial-cluster: member ${id}`, part.slice(eq + 1)).address})
    } catch (err) {
      throw new RestoreError((err as Error).message)
    }
  }
  if (members.length === 0) throw new RestoreError('--initial-cluster: no members given')
  return members
}

/** The member metadata of the new cluster (as a freshly bootstrapped one: node<id>, its peer URL). */
export function restoredMembers(initial: readonly RestoreMember[]): MemberInfo[] {
  return [...initial].sort((a, b) => a.id - b.id).map((m) => ({id: m.id, name: `node${m.id}`, peerUrls: [m.peerUrl], clientUrls: []}))
}

/** Refuses a target that exists and is not an empty directory. */
export function checkRestoreTarget(dataDir: string): void {
  if (!existsSync(dataDir)) return
  if (!statSync(dataDir).isDirectory()) throw new RestoreError(`--data-dir ${dataDir} exists and is not a directory`)
  const n = readdirSync(dataDir).length
  if (n > 0) throw new RestoreError(`--data-dir ${dataDir} is not empty (${n} entries); restore only into a new or empty directory`)
}

/** Checks the options before anything is written (the backup's content is checked by restoreDataDir). */
export function checkRestoreOptions(o: RestoreOptions): void {
  if (!Number.isSafeInteger(o.nodeId) || o.nodeId < 1) throw new RestoreError(`--id ${o.nodeId} is not a positive integer`)
  if (!o.initialCluster.some((m) => m.id === o.nodeId)) {
    throw new RestoreError(`--id ${o.nodeId} is not in --initial-cluster (members ${o.initialCluster.map((m) => m.id).join(', ')})`)
  }
  if (!existsSync(o.snapshotPath)) throw new RestoreError(`snapshot file ${o.snapshotPath} does not exist`)
  if (!statSync(o.snapshotPath).isFile()) throw new RestoreError(`${o.snapshotPath} is not a regular file, not a snapshot file`)
  checkRestoreTarget(o.dataDir)
}

/** The header of the restored snapshot: the backup's state with the new cluster's membership. */
function restoredHeader(src: SnapshotHeaderInfo, clusterId: number, members: readonly MemberInfo[]): Omit<SnapshotHeaderInfo, 'formatVersion'> {
  const metadata: SnapshotMetadata = {
    index: Math.max(1, src.metadata.index), term: Math.max(1, src.metadata.term),
    confState: {...EMPTY_CONF_STATE, voters: members.map((m) => m.id)},
  }
  return {metadata, members, keyCount: src.keyCount, revision: src.revision, compactRevision: src.compactRevision, clusterId, leaseCount: src.leaseCount}
}

/** Builds the data dir in `staging`; returns what it holds. */
async function build(o: RestoreOptions, staging: string, src: SnapshotHeaderInfo): Promise<RestoreResult> {
  const members = restoredMembers(o.initialCluster)
  const clusterId = clusterIdFor(o.initialCluster)
  const header = restoredHeader(src, clusterId, members)
  const storage = await RaftStorage.open(staging, {clusterId, nodeId: o.nodeId, create: true})
  try {
    const kv = await KvStore.open(storage, {leases: await o.leases?.(storage)})
    async function* records(): AsyncGenerator<SnapshotRecord> {
      for await (const item of parseSnapshot(fileChunks(o.snapshotPath), o.snapshotPath)) if (item.kind === 'record') yield item.raw
    }
    async function* leaseItems(): AsyncGenerator<Uint8Array> {
      for await (const item of parseSnapshot(fileChunks(o.snapshotPath), o.snapshotPath)) if (item.kind === 'lease') yield item.raw
    }
    const path = storage.snapshotPath(header.metadata)
    await writeFileAtomic(path, encodeSnapshotFile(header, records(), leaseItems()))
    await kv.restoreFromFile(path)
    await kv.close()
  } finally {
    await storage.close()
  }
  return {
    dataDir: o.dataDir, nodeId: o.nodeId, clusterId, sourceClusterId: src.clusterId, index: header.metadata.index,
    term: header.metadata.term, revision: header.revision, keyCount: header.keyCount, leaseCount: src.leaseCount,
    voters: header.metadata.confState.voters, members,
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r')
  try {
    await d.sync()
  } finally {
    await d.close()
  }
}

/** Restores `o.snapshotPath` into the new data dir `o.dataDir`; see the module comment. */
export async function restoreDataDir(o: RestoreOptions): Promise<RestoreResult> {
  checkRestoreOptions(o)
  let src: SnapshotHeaderInfo
  try {
    src = (await verifySnapshot(fileChunks(o.snapshotPath), o.snapshotPath)).header
  } catch (err) {
    if (err instanceof SnapshotFileError) throw err
    throw new RestoreError(`cannot read snapshot file ${o.snapshotPath}: ${(err as Error).message}`)
  }
  const target = resolve(o.dataDir)
  const parent = dirname(target)
  await mkdir(parent, {recursive: true})
  const staging = join(parent, `.${basename(target)}.restoring-${process.pid}`)
  await rm(staging, {recursive: true, force: true})
  try {
    const result = await build(o, staging, src)
    checkRestoreTarget(o.dataDir)
    await rename(staging, target)
    await fsyncDir(parent)
    return result
  } catch (err) {
    await rm(staging, {recursive: true, force: true})
    throw err
  }
}
