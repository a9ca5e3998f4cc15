/**
 * Checked parsing of what the membership commands take from the operator: node ids, peer URLs
 * and the change specifications of `raftctl member change`. Every refusal is one line naming the
 * flag or argument and the value that was wrong.
 */
import type {MemberChangeSpec} from '../client/index.js'
import {CodedError, withCode} from '../raft/errors.js'
import {EndpointError, parseEndpoint} from '../raftpb/address.js'

/** Raised for a malformed id, URL or change specification given on the command line. */
export class UsageError extends withCode(CodedError, 'BAD_ARGUMENT') {}

/**
 * Parses a node id: decimal digits only, a safe integer greater than zero. `what` names the
 * argument in the error (e.g. "member id").
 */
export function parseNodeId(what: string, text: string): number {
  const t = text.trim()
  const n = /^\d+$/.test(t) ? Number(t) : Number.NaN
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${what} "${text}" is not a node id; give a positive integer (1 to 2^53-1)`)
  }
  return n
}

/** Parses a peer or client URL into canonical host:port; `what` names the flag in the error. */
export function parseUrl(what: string, text: string): string {
  try {
    return parseEndpoint(what, text).address
  } catch (err) {
    if (err instanceof EndpointError) throw new UsageError(err.message)
    throw err
  }
}

/**
 * Parses one value of --add-voter / --add-learner: `ID` (a member that already exists, e.g. a
 * learner to promote) or `ID=PEER_URL` (a new member, named node<ID>).
 */
export function parseAddSpec(flag: string, text: string, kind: 'add-voter' | 'add-learner'): MemberChangeSpec {
  const eq = text.indexOf('=')
  if (eq < 0) return {kind, id: parseNodeId(`--${flag}`, text)}
  const id = parseNodeId(`--${flag}`, text.slice(0, eq))
  return {kind, id, peerUrls: [parseUrl(`--${flag} ${id}: peer URL`, text.slice(eq + 1))]}
}

/** The changes of `raftctl member change`, in flag order: adds first, then demotes and removes. */
export function parseChangeFlags(flags: {
  'add-voter'?: readonly string[], 'add-learner'?: readonly string[], remove?: readonly string[], demote?: readonly string[],
}): MemberChangeSpec[] {
  const changes: MemberChangeSpec[] = [
    ...(flags['add-voter'] ?? []).map((t) => parseAddSpec('add-voter', t, 'add-voter')),
    ...(flags['add-learner'] ?? []).map((t) => parseAddSpec('add-learner', t, 'add-learner')),
    ...(flags.demote ?? []).map((t): MemberChangeSpec => ({kind: 'demote', id: parseNodeId('--demote', t)})),
    ...(flags.remove ?? []).map((t): MemberChangeSpec => ({kind: 'remove', id: parseNodeId('--remove', t)})),
  ]
  if (changes.length === 0) {
    throw new UsageError('no change given; use --add-voter, --add-learner, --demote or --remove (each may repeat)')
  }
  const seen = new Set<number>()
  for (const c of changes) {
    if (seen.has(c.id)) throw new UsageError(`node ${c.id} appears more than once; give each node at most one change`)
    seen.add(c.id)
  }
  return changes
}
