/**
 * The gRPC metadata keys of raftctl's client protocol, shared by the server that sets them and
 * the client that reads them, so the two sides cannot drift apart.
 */

/**
 * Set (in trailers) on a not-leader refusal: the leader's client endpoint (host:port). Such a
 * refusal means nothing was done, so the client sends the request to that endpoint instead.
 */
export const LEADER_HINT_KEY = 'raftctl-leader'

/**
 * Set to `1` on an answer to a request the server refused before proposing anything (no leader
 * yet, proposal dropped, overload): repeating it cannot apply a write twice.
 */
export const RETRY_SAFE_KEY = 'raftctl-retry-safe'
