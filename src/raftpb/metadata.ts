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

/**
 * Set (in trailers) on an error answer: raftctl's own explanation of the error — what was wrong
 * and what to do — while the status message keeps etcd's exact text, which etcd clients match
 * on. The raftctl client shows this instead of the bare etcd text. The value is printable ASCII:
 * encode it with encodeDetail and read it with decodeDetail.
 */
export const DETAIL_KEY = 'raftctl-detail'

/**
 * Request metadata of raftctl's CLI on etcd's Cluster.MemberAdd: the node id to give the new
 * member (a decimal integer in 1..2^53-1). Without it the server picks a fresh random id, as etcd
 * does.
 */
export const MEMBER_ID_KEY = 'raftctl-member-id'

/**
 * Request metadata `1` on MemberAdd and MemberPromote: skip the reachable-quorum and catch-up
 * checks (the CLI's --force). etcd's own requests never carry it.
 */
export const FORCE_KEY = 'raftctl-force'

/**
 * Request metadata of etcd clients: with the value `true` (HAS_LEADER_VALUE), the request is
 * refused at once with "etcdserver: no leader" when the member knows no leader, instead of
 * waiting for one until its deadline. etcdctl sets it on watches.
 */
export const REQUIRE_LEADER_KEY = 'hasleader'
export const HAS_LEADER_VALUE = 'true'

/**
 * Set to `1` by a member that forwards a call to the leader, so that a member receiving it does
 * not forward it again (at most one hop; leadership may have moved meanwhile).
 */
export const FORWARDED_KEY = 'raftctl-forwarded'

const UTF8 = new TextEncoder()

/** The longest detail kept in trailers; longer ones are cut with an ellipsis. */
const MAX_DETAIL_CHARS = 2000

/**
 * Encodes `text` for a metadata value: printable ASCII passes unchanged except `%`, everything
 * else becomes the percent-encoding of its UTF-8 bytes (metadata values must be printable ASCII).
 */
export function encodeDetail(text: string): string {
  const cut = text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text
  let out = ''
  for (const ch of cut) {
    const c = ch.codePointAt(0)!
    if (c >= 0x20 && c <= 0x7e && ch !== '%') out += ch
    else for (const b of UTF8.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Decodes a value made by encodeDetail; a malformed escape is kept as it is. */
export function decodeDetail(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
