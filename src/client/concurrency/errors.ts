/**
 * The errors the concurrency recipes throw themselves. Their messages are etcd's clientv3 texts
 * word for word where etcd has one ("election: not leader", "election: no leader", "lost watcher
 * waiting for delete", the compaction text of a cancelled watch), because the Lock and Election
 * services pass them to clients as etcd does, and clients compare the text.
 */
import {CodedError, withCode} from '../../raft/errors.js'

/** Base class of the recipes' own errors. */
export class ConcurrencyError extends CodedError {}

/** Proclaim by a campaigner that is not (or no longer) the leader. */
export class ElectionNotLeaderError extends withCode(ConcurrencyError, 'ELECTION_NOT_LEADER', 'election: not leader') {}

/** Leader() of an election nobody holds. */
export class ElectionNoLeaderError extends withCode(ConcurrencyError, 'ELECTION_NO_LEADER', 'election: no leader') {}

/** lock() whose lease ended (and so whose key was deleted) while it waited (etcd 3.5's text). */
export class MutexSessionExpiredError extends withCode(ConcurrencyError, 'MUTEX_SESSION_EXPIRED', 'mutex: session is expired') {}

/**
 * A watch the recipe relied on ended: the server cancelled it (its start revision was compacted,
 * or another reason it gave) or the stream closed.
 */
export class WatchLostError extends withCode(ConcurrencyError, 'WATCH_LOST') {}

/** No endpoint of a list answered (connectEtcd); the message names each one and why. */
export class NoEndpointError extends withCode(ConcurrencyError, 'NO_ENDPOINT') {}

/** A session that could not start, or an operation on a session that has ended. */
export class SessionError extends withCode(ConcurrencyError, 'SESSION') {}

/** etcd's text for a watch whose start revision was compacted. */
export const COMPACTED_MESSAGE = 'etcdserver: mvcc: required revision has been compacted'
/** clientv3's text when the watch of waitDelete ends without the delete. */
export const LOST_WATCHER_MESSAGE = 'lost watcher waiting for delete'
