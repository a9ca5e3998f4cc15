/**
 * `cluster status` and `cluster health` in each --write-out format (src/cli/output.ts). Their
 * json format is the same object as --json: neither is an etcd response.
 */
import type {ClusterView} from './cluster_status.js'
import type {Field, View} from './output.js'
import {formatBytes, renderTable} from './table.js'

/**
 * `cluster status`. simple: one comma-separated line per member (id, name, endpoint, role, term,
 * leader, commit, applied, lag, db size in bytes, reachable, problems joined by "; "), as
 * etcdctl's endpoint status; table: the table and a summary line.
 */
export const statusView: View<ClusterView> = {
  simple: (v) => v.members.map((m) => `${[m.id, m.name, m.endpoint, m.role, m.term, m.leader, m.commitIndex, m.appliedIndex, m.lag,
    m.dbSize, m.reachable, m.errors.join('; ')].join(', ')}\n`),
  table(v) {
    const rows = v.members.map((m) => m.reachable
      ? [m.id, m.name, m.endpoint, m.role, m.term, m.leader || 'none', m.commitIndex, m.appliedIndex, m.lag, formatBytes(m.dbSize), 'yes']
      : [m.id, m.name, m.endpoint || '-', m.role, '-', '-', '-', '-', '-', '-', `no: ${m.errors[0] ?? ''}`])
    const down = v.members.filter((m) => !m.reachable).length
    return `${renderTable(['ID', 'NAME', 'ENDPOINT', 'ROLE', 'TERM', 'LEADER', 'COMMIT', 'APPLIED', 'LAG', 'DB SIZE', 'REACHABLE'], rows)}\n` +
      `${v.leader === 0 ? 'no leader agreed on' : `leader: ${v.leader}`}; ${v.members.length - down} of ${v.members.length} members reachable`
  },
  fields: (v) => [
    ['Leader', v.leader],
    ...v.members.flatMap((m): Field[] => [
      ['ID', m.id], ['Name', m.name], ['Endpoint', m.endpoint], ['Reachable', m.reachable], ['Role', m.role], ['RaftTerm', m.term],
      ['Leader', m.leader], ['RaftIndex', m.commitIndex], ['RaftAppliedIndex', m.appliedIndex], ['Lag', m.lag], ['DBSize', m.dbSize],
      ['Version', m.version], ['Errors', m.errors],
    ]),
  ],
  json: (v) => v,
}

/** The verdict of `cluster health` (also its --json object). */
export interface HealthResult {
  readonly healthy: boolean
  /** The leader the reachable members agree on (0: none). */
  readonly leader: number
  readonly term: number
  /** Voters of the (incoming) configuration, and how many of them answered. */
  readonly voters: readonly number[]
  readonly votersAnswering: number
  readonly quorum: number
  /** What is wrong, one sentence each; empty when healthy. */
  readonly problems: readonly string[]
}

/**
 * `cluster health`. simple: one line when healthy and nothing when not (the command then prints
 * the problems as its error line on stderr and exits 1); table: one row, as etcdctl's endpoint health.
 */
export const healthView: View<HealthResult> = {
  simple: (r) => r.healthy
    ? [`healthy: leader ${r.leader} at term ${r.term}; ${r.votersAnswering} of ${r.voters.length} voters answer (quorum ${r.quorum})\n`]
    : [],
  table: (r) => renderTable(['HEALTHY', 'LEADER', 'TERM', 'VOTERS', 'ANSWERING', 'QUORUM', 'PROBLEMS'],
    [[r.healthy, r.leader || 'none', r.term, r.voters.join(' '), r.votersAnswering, r.quorum, r.problems.join('; ') || '-']]),
  fields: (r) => [['Healthy', r.healthy], ['Leader', r.leader], ['RaftTerm', r.term], ['Voters', r.voters],
    ['VotersAnswering', r.votersAnswering], ['Quorum', r.quorum], ['Problems', r.problems]],
  json: (r) => r,
}
