/**
 * The plain-object form of the member list and the ConfState (printed with --json), the member
 * table, the configuration line in etcd's format, and the `raftctl server start` arguments
 * that start a newly added member (printed as a line by src/cli/invocation.ts).
 */
import type {MemberStatus} from '../client/index.js'
import {MemberStatus_ProgressState, MemberStatus_Role} from '../generated/raftctl/v1/raftctl.js'
import type {ConfState} from '../generated/eraftpb.js'
import {formatConfState} from '../raft/index.js'
import type {Field, View} from './output.js'
import {renderTable} from './table.js'

export type RoleName = 'voter' | 'learner' | 'learner-next' | 'outgoing-voter' | 'none'
export type ProgressName = 'probe' | 'replicate' | 'snapshot' | 'unknown'

/** One member as printed with --json. Progress fields are 0 / "unknown" when no leader answered. */
export interface MemberJson {
  readonly id: number
  readonly name: string
  readonly peerUrls: string[]
  readonly clientUrls: string[]
  readonly role: RoleName
  readonly isLeader: boolean
  readonly matchIndex: number
  readonly nextIndex: number
  /** Entries behind the leader's last index. */
  readonly lag: number
  readonly progressState: ProgressName
  readonly recentActive: boolean
}

/** The ConfState as printed with --json; `text` is the etcd-style line (see formatConfig). */
export interface ConfigJson {
  readonly voters: number[]
  readonly votersOutgoing: number[]
  readonly learners: number[]
  readonly learnersNext: number[]
  readonly autoLeave: boolean
  /** True while an outgoing voter set exists (joint consensus, Raft thesis §4.3). */
  readonly joint: boolean
  readonly text: string
}

/** What every membership command returns with --json: the resulting members and configuration. */
export interface MembershipJson {
  readonly members: MemberJson[]
  readonly config: ConfigJson
}

const ROLE: Record<number, RoleName> = {
  [MemberStatus_Role.VOTER]: 'voter',
  [MemberStatus_Role.LEARNER]: 'learner',
  [MemberStatus_Role.LEARNER_NEXT]: 'learner-next',
  [MemberStatus_Role.OUTGOING_VOTER]: 'outgoing-voter',
}

const PROGRESS: Record<number, ProgressName> = {
  [MemberStatus_ProgressState.PROBE]: 'probe',
  [MemberStatus_ProgressState.REPLICATE]: 'replicate',
  [MemberStatus_ProgressState.SNAPSHOT]: 'snapshot',
}

export function memberToJson(s: MemberStatus): MemberJson {
  const m = s.member
  return {
    id: m?.id ?? 0, name: m?.name ?? '', peerUrls: [...(m?.peerUrls ?? [])], clientUrls: [...(m?.clientUrls ?? [])],
    role: ROLE[s.role] ?? 'none', isLeader: s.isLeader, matchIndex: s.matchIndex, nextIndex: s.nextIndex,
    lag: s.lag, progressState: PROGRESS[s.progressState] ?? 'unknown', recentActive: s.recentActive,
  }
}

const sorted = (ids: readonly number[] = []): number[] => [...ids].sort((a, b) => a - b)

/** The configuration in etcd's tracker.Config format (the core's formatConfState). */
export function formatConfig(cs: Pick<ConfigJson, 'voters' | 'votersOutgoing' | 'learners' | 'learnersNext' | 'autoLeave'>): string {
  return formatConfState(cs)
}

export function configToJson(cs: ConfState | undefined): ConfigJson {
  const base = {
    voters: sorted(cs?.voters), votersOutgoing: sorted(cs?.votersOutgoing), learners: sorted(cs?.learners),
    learnersNext: sorted(cs?.learnersNext), autoLeave: cs?.autoLeave ?? false,
  }
  return {...base, joint: base.votersOutgoing.length > 0, text: formatConfig(base)}
}

export function membershipToJson(r: {members: readonly MemberStatus[], confState?: ConfState}): MembershipJson {
  return {members: r.members.map(memberToJson), config: configToJson(r.confState)}
}

/** The member table: one row per member; progress columns are "-" when no leader answered. */
export function renderMembers(members: readonly MemberJson[]): string {
  const rows = members.map((m) => {
    const known = m.progressState !== 'unknown'
    return [
      m.id, m.name || '-', m.peerUrls.join(',') || '-', m.clientUrls.join(',') || '-', m.role,
      known ? m.matchIndex : '-', known ? m.lag : '-', m.progressState, m.isLeader ? '*' : '',
    ]
  })
  return renderTable(['ID', 'NAME', 'PEER URL', 'CLIENT URL', 'ROLE', 'MATCH', 'LAG', 'PROGRESS', 'LEADER'], rows)
}

/** What `member list` prints: the list, and sentences (the table format only) about what is unknown. */
export interface MemberListData {
  readonly list: MembershipJson
  readonly notes: readonly string[]
}

/**
 * `member list` in each --write-out format. simple: one line per member as etcdctl's, comma-separated
 * (id, name, peer URLs, client URLs, role, match index, lag, progress state, leader; several URLs
 * joined by commas as etcdctl does); json: the --json object.
 */
export const memberListView: View<MemberListData> = {
  simple: (d) => d.list.members.map((m) => `${[m.id, m.name, m.peerUrls.join(','), m.clientUrls.join(','), m.role,
    m.matchIndex, m.lag, m.progressState, m.isLeader].join(', ')}\n`),
  table: (d) => [renderMembers(d.list.members), `configuration: ${d.list.config.text}`, ...d.notes].join('\n'),
  fields: (d) => [
    ...d.list.members.flatMap((m): Field[] => [
      ['ID', m.id], ['Name', m.name], ['PeerURLs', m.peerUrls], ['ClientURLs', m.clientUrls], ['Role', m.role], ['IsLeader', m.isLeader],
      ['MatchIndex', m.matchIndex], ['Lag', m.lag], ['Progress', m.progressState],
    ]),
    ['Configuration', d.list.config.text],
  ],
  json: (d) => d.list,
}

/** The member with `id`, if listed. */
export function findMember(members: readonly MemberJson[], id: number): MemberJson | undefined {
  return members.find((m) => m.id === id)
}

/** Options of the start line that are not in the member list. */
export interface StartLineOptions {
  readonly dataDir: string
  readonly clientUrl?: string
  /** The node's name when the list has none yet (a member added but not started publishes none). */
  readonly name?: string
}

/**
 * The `raftctl server start` arguments that start member `id` of `members` so that it joins the
 * running cluster: its id, name, data dir, peer listen address, client address (when known), the
 * whole --initial-cluster (every member with a peer URL, `id=host:port` ascending) and
 * `--initial-cluster-state existing`. Values never contain spaces or shell metacharacters
 * (ids are integers, URLs are host:port, the name and data dir are quoted when needed).
 */
export function startArgs(members: readonly MemberJson[], id: number, opts: StartLineOptions): string[] {
  const self = findMember(members, id)
  if (self === undefined || self.peerUrls.length === 0) throw new Error(`node ${id} is not in the member list the cluster returned`)
  const initial = [...members].filter((m) => m.peerUrls.length > 0).sort((a, b) => a.id - b.id)
    .map((m) => `${m.id}=${m.peerUrls[0]}`).join(',')
  const client = opts.clientUrl ?? self.clientUrls[0]
  const name = self.name === '' ? opts.name ?? '' : self.name
  return [
    'server', 'start', '--id', String(id), ...(name === '' ? [] : ['--name', name]),
    '--data-dir', opts.dataDir, '--listen-peer', self.peerUrls[0],
    ...(client === undefined ? [] : ['--listen-client', client]),
    '--initial-cluster', initial, '--initial-cluster-state', 'existing',
  ]
}
