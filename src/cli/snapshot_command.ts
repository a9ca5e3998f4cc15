/**
 * The base of the offline snapshot commands (inspect, restore): they read and write local files
 * only, so they have --json but not --endpoints or --timeout. Errors end as one line naming what
 * was wrong (RaftctlCommand's mapping) with a non-zero exit code. Also the output of `snapshot
 * inspect` in each --write-out format.
 */
import {statSync} from 'node:fs'
import {RaftctlCommand} from './base.js'
import {describeError} from './errors.js'
import type {Chunk, View} from './output.js'
import {formatBytes, renderTable} from './table.js'

export abstract class OfflineCommand extends RaftctlCommand {}

/** Throws one clear line unless `path` is an existing regular file. */
export function checkSnapshotFile(path: string): void {
  let st
  try {
    st = statSync(path)
  } catch (err) {
    if ((err as {code?: string}).code === 'ENOENT') throw new Error(`snapshot file ${path} does not exist`)
    throw new Error(`cannot read snapshot file ${path}: ${describeError(err)}`)
  }
  if (!st.isFile()) throw new Error(`${path} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not a snapshot file`)
}

/** What `raftctl snapshot inspect` prints with --json. */
export interface InspectResult {
  readonly path: string
  readonly size: number
  readonly formatVersion: number
  readonly clusterId: number
  readonly index: number
  readonly term: number
  readonly voters: readonly number[]
  readonly learners: readonly number[]
  readonly learnersNext: readonly number[]
  readonly votersOutgoing: readonly number[]
  readonly autoLeave: boolean
  readonly members: ReadonlyArray<{id: number, name: string, peerUrls: readonly string[], clientUrls: readonly string[]}>
  readonly keyCount: number
  readonly revision: number
  /** The file holds the history of revisions compactRevision..revision (reads below it are compacted). */
  readonly compactRevision: number
  /** The number of history records in the file. */
  readonly records: number
  /** The number of leases in the file. */
  readonly leaseCount: number
  /** The SHA-256 the file carries. */
  readonly checksum: string
  /** True when the content hashes to that checksum. */
  readonly checksumOk: boolean
  /** The keys of the first --keys history records, oldest first (present only with --keys). */
  readonly keys?: readonly string[]
}


/** What `snapshot inspect` shows: the result, and the keys of the first records as bytes (with --keys). */
export interface InspectData {
  readonly result: InspectResult
  readonly keys: readonly Uint8Array[] | undefined
}

const ids = (l: readonly number[]): string => `(${l.join(' ')})`

export const inspectView: View<InspectData> = {
  simple: ({result: r, keys}) => [
    `${r.checksum}, ${r.revision}, ${r.keyCount}, ${r.size}\n`,
    ...(keys ?? []).flatMap((k): Chunk[] => [k, '\n']),
  ],
  table({result: r, keys}) {
    const rows: Array<[string, string | number]> = [
      ['file', r.path], ['size', `${formatBytes(r.size)} (${r.size} bytes)`], ['format version', r.formatVersion],
      ['cluster id', r.clusterId], ['index', r.index], ['term', r.term],
      ['voters', ids(r.voters)], ['learners', ids(r.learners)], ['learners_next', ids(r.learnersNext)],
      ['voters_outgoing', ids(r.votersOutgoing)], ['auto_leave', String(r.autoLeave)],
      ['key count', r.keyCount], ['revision', r.revision],
      ['history', `revisions ${r.compactRevision}..${r.revision} (${r.records} records)`], ['leases', r.leaseCount],
      ['checksum', `${r.checksumOk ? 'ok' : 'MISMATCH'} (sha256 ${r.checksum})`],
    ]
    const out = [renderTable(['FIELD', 'VALUE'], rows), renderTable(['MEMBER ID', 'NAME', 'PEER URLS', 'CLIENT URLS'],
      r.members.map((m) => [m.id, m.name, m.peerUrls.join(','), m.clientUrls.join(',')]))]
    if (keys !== undefined) out.push(renderTable([`KEYS OF THE FIRST ${keys.length} OF ${r.records} RECORDS`], keys.map((k) => [k])))
    return out.join('\n')
  },
  fields: ({result: r, keys}) => [
    ['File', r.path], ['Size', r.size], ['FormatVersion', r.formatVersion], ['ClusterID', r.clusterId], ['Index', r.index], ['Term', r.term],
    ['Voters', r.voters], ['Learners', r.learners], ['LearnersNext', r.learnersNext], ['VotersOutgoing', r.votersOutgoing],
    ['AutoLeave', r.autoLeave], ['KeyCount', r.keyCount], ['Revision', r.revision], ['CompactRevision', r.compactRevision],
    ['Records', r.records], ['Leases', r.leaseCount], ['Checksum', r.checksum], ['ChecksumOK', r.checksumOk],
    ...r.members.flatMap((m) => [['MemberID', m.id], ['Name', m.name], ['PeerURLs', m.peerUrls], ['ClientURLs', m.clientUrls]] as const),
    ...(keys ?? []).map((k) => ['Key', k] as const),
  ],
  json: ({result}) => result,
}
