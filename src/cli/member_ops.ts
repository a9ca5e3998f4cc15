/**
 * The work behind the membership commands that is more than one client call: the member list
 * as plain objects, the checks made before a risky change (is the member a voter?), and waiting
 * for a learner to catch up with a progress display.
 *
 * Readiness rule (documented for operators in `member add --help` and `member promote --help`):
 * a learner is ready to promote when the leader reports it in the REPLICATE progress state
 * (the leader streams appends to it; it is not being probed or sent a snapshot) and its match
 * index is at least 90% of the leader's last index — the same threshold the server applies
 * (PROMOTE_THRESHOLD in src/server/membership.ts), so a promotion right after the wait is
 * accepted. Waiting for lag 0 instead would never end on a cluster that keeps taking writes.
 */
import type {RaftctlClient} from '../client/index.js'
import {type MemberJson, type MembershipJson, membershipToJson} from './member_format.js'
import {createProgress} from './progress.js'

/** The share of the leader's last index a learner must have replicated (the server's rule). */
export const READY_THRESHOLD = 0.9

/** The member list, asked of the leader when possible so that replication progress is known. */
export async function listMembers(c: RaftctlClient, linearizable = false): Promise<MembershipJson> {
  return membershipToJson(await c.memberList({linearizable}))
}

/** Returns member `id` of the list, or throws "node N is not a member of the cluster". */
export function requireMember(list: MembershipJson, id: number): MemberJson {
  const m = list.members.find((x) => x.id === id)
  if (m === undefined || m.role === 'none') throw new Error(`node ${id} is not a member of the cluster`)
  return m
}

/** How far a member is: match index against the leader's last index. */
export interface CatchUp {
  readonly matchIndex: number
  readonly leaderLastIndex: number
  /** Whole percent, 0..100. */
  readonly percent: number
  readonly ready: boolean
}

/** The catch-up of `m` as the leader reported it (see the module comment for `ready`). */
export function catchUpOf(m: MemberJson): CatchUp | undefined {
  if (m.progressState === 'unknown') return undefined
  const last = m.matchIndex + m.lag
  const percent = last === 0 ? 100 : Math.floor((m.matchIndex * 100) / last)
  const ready = m.role === 'voter' || (m.progressState === 'replicate' && m.matchIndex >= READY_THRESHOLD * last)
  return {matchIndex: m.matchIndex, leaderLastIndex: last, percent, ready}
}

export interface WaitOptions {
  readonly waitMs: number
  readonly intervalMs?: number
  /** No progress display (e.g. --json). */
  readonly quiet?: boolean
}

/**
 * Polls the member list until learner `id` is ready to promote (or already a voter), showing
 * its match index against the leader's last index. Throws when the member disappears or the
 * wait exceeds `waitMs`, naming how far it got.
 */
export async function waitCaughtUp(c: RaftctlClient, id: number, opts: WaitOptions): Promise<CatchUp> {
  const progress = createProgress(`node ${id} catching up`, 'entries', opts.quiet)
  const deadline = Date.now() + opts.waitMs
  let last: CatchUp | undefined
  let lastError: unknown
  try {
    for (;;) {
      try {
        const m = requireMember(await listMembers(c), id)
        last = catchUpOf(m)
        if (last !== undefined) progress.update(last.matchIndex, last.leaderLastIndex)
        if (last?.ready === true) return last
      } catch (err) {
        if (err instanceof Error && /is not a member/.test(err.message)) throw err
        lastError = err
      }
      if (Date.now() >= deadline) break
      await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 250, Math.max(0, deadline - Date.now()))))
    }
  } finally {
    progress.stop()
  }
  const where = last === undefined ? 'its progress was never reported by a leader'
    : `it reached match index ${last.matchIndex} of ${last.leaderLastIndex} (${last.percent}%)`
  const why = lastError instanceof Error && last === undefined ? ` (last error: ${lastError.message})` : ''
  throw new Error(`node ${id} did not catch up within ${Math.round(opts.waitMs / 1000)}s: ${where}${why}; is it running?`)
}

const majority = (n: number): number => Math.floor(n / 2) + 1

/** The quorum warning of adding a voter directly, in the operator's terms. */
export function quorumWarning(list: MembershipJson, id: number): string {
  const n = list.config.voters.length
  const q = majority(n + 1)
  const meanwhile = n < q
    ? 'the cluster cannot commit anything until it has started and caught up'
    : `until it has started and caught up, the cluster tolerates ${n - q} failure(s) instead of ${n - majority(n)}`
  return `adding node ${id} directly as a voter makes ${n + 1} voters needing ${q} for a quorum; ${meanwhile}` +
    ' (the safe way is --learner, then promote)'
}
