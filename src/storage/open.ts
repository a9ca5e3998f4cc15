/**
 * Opening a data dir: creating it (identity record and optional bootstrap ConfState in the first
 * batch), refusing a dir that belongs to another cluster or node, and loading the state.
 *
 * Layout of a data dir: <dir>/db is the RocksDB database, <dir>/snap holds snapshot files.
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {ConfState} from '../raft/types.js'
import {encodeConfState} from '../raftpb/codec.js'
import {type BatchOp, Db, makeDir} from './db.js'
import {DataDirError, ForeignDataDirError} from './errors.js'
import {CONF_STATE_KEY, IDENT_KEY, memberKey} from './keys.js'
import {isEmpty, type LoadedState, loadState, readIdentity} from './load.js'
import {encodeIdentity, encodeMember, type Identity, type MemberInfo, STORAGE_FORMAT_VERSION} from './records.js'
import {checkIndex} from './log_plan.js'

export interface OpenOptions {
  /**
   * The cluster this node belongs to (>= 1). Required when creating; when opening an existing
   * dir it is checked against the stored one (omit it to accept whatever is stored).
   */
  readonly clusterId?: number
  /** This node's id (>= 1); required when creating, checked when given. */
  readonly nodeId?: number
  /** Create the data dir when it does not exist yet (default false: a missing dir is an error). */
  readonly create?: boolean
  /** Entries kept before the compaction point (default 10,000). */
  readonly compactTrailing?: number
  /**
   * Written only when the dir is created: the initial ConfState of a bootstrapped cluster (the
   * founding voters) and their member metadata. A node that joins an existing cluster leaves
   * it out and receives its state from a snapshot.
   */
  readonly bootstrap?: {readonly confState: ConfState, readonly members?: readonly MemberInfo[]}
}

function checkIdentity(dir: string, stored: Identity, o: OpenOptions): void {
  if (o.clusterId !== undefined && o.clusterId !== stored.clusterId) {
    throw new ForeignDataDirError(dir,
      `cluster ${stored.clusterId}, not cluster ${o.clusterId} (node ${stored.nodeId})`)
  }
  if (o.nodeId !== undefined && o.nodeId !== stored.nodeId) {
    throw new ForeignDataDirError(dir,
      `node ${stored.nodeId}, not node ${o.nodeId} (cluster ${stored.clusterId})`)
  }
}

async function initialize(db: Db, dir: string, o: OpenOptions): Promise<Identity> {
  if (o.clusterId === undefined || o.nodeId === undefined) {
    throw new DataDirError(`creating data dir ${dir} needs a cluster id and a node id`)
  }
  const identity: Identity = {
    formatVersion: STORAGE_FORMAT_VERSION,
    clusterId: checkIndex('cluster id', o.clusterId, 1),
    nodeId: checkIndex('node id', o.nodeId, 1),
  }
  const ops: BatchOp[] = [{type: 'put', key: IDENT_KEY, value: encodeIdentity(identity)}]
  if (o.bootstrap !== undefined) {
    ops.push({type: 'put', key: CONF_STATE_KEY, value: encodeConfState(o.bootstrap.confState)})
    for (const m of o.bootstrap.members ?? []) {
      ops.push({type: 'put', key: memberKey(checkIndex('member id', m.id, 1)), value: encodeMember(m)})
    }
  }
  await db.write(ops, {sync: true})
  return identity
}

/** True when `dbDir` holds a RocksDB database (RocksDB writes CURRENT last when it creates one). */
const hasDatabase = (dbDir: string): boolean => existsSync(join(dbDir, 'CURRENT'))

/**
 * Whether `dir` is a data dir that was created: it holds a database with at least one key (the
 * identity record is written first). A dir whose creation failed or was cut short — a full or
 * read-only disk, a crash — holds no database or an empty one; it is created again as if new.
 */
export async function dataDirCreated(dir: string): Promise<boolean> {
  const dbDir = join(dir, 'db')
  if (!hasDatabase(dbDir)) return false
  const db = await Db.open(dbDir, {createIfMissing: false})
  try {
    return !(await isEmpty(db))
  } finally {
    await db.close()
  }
}

/** Opens (or creates) the database of `dir`, checks its identity and loads its state. */
export async function openDataDir(dir: string, o: OpenOptions): Promise<{db: Db, loaded: LoadedState}> {
  const dbDir = join(dir, 'db')
  if (!hasDatabase(dbDir)) {
    if (o.create !== true) {
      throw new DataDirError(`data dir ${dir} does not exist or is not initialized (no database in ${dbDir}); create it first`)
    }
    if (o.clusterId === undefined || o.nodeId === undefined) {
      throw new DataDirError(`creating data dir ${dir} needs a cluster id and a node id`)
    }
  }
  makeDir(join(dir, 'snap'), `data dir ${dir}: creating ${join(dir, 'snap')}`)
  const db = await Db.open(dbDir, {createIfMissing: o.create === true})
  try {
    let identity = await readIdentity(db, dir)
    if (identity === undefined) {
      if (!(await isEmpty(db))) {
        throw new DataDirError(`data dir ${dir} holds data but no identity record (r/ident); refusing to use it`)
      }
      if (o.create !== true) throw new DataDirError(`data dir ${dir} is not initialized; create it first`)
      identity = await initialize(db, dir, o)
    } else {
      checkIdentity(dir, identity, o)
    }
    const loaded = await loadState(db, dir, identity)
    if (loaded.staleLogKeys.length > 0) {
      await db.write(loaded.staleLogKeys.map((key) => ({type: 'del' as const, key})), {sync: true})
    }
    return {db, loaded}
  } catch (err) {
    await db.close()
    throw err
  }
}
