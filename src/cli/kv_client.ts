/**
 * Helpers shared by the kv, cluster and snapshot commands: a client built from the common flags
 * that is always closed (so the process exits when the command is done), and the check of
 * numeric flags.
 */
import {RaftctlClient} from '../client/index.js'

/** Runs `fn` with a client of `endpoints` and closes the client afterwards, whatever happens. */
export async function withClient<T>(endpoints: readonly string[], timeoutMs: number, fn: (c: RaftctlClient) => Promise<T>): Promise<T> {
  const client = new RaftctlClient({endpoints, timeoutMs})
  try {
    return await fn(client)
  } finally {
    client.close()
  }
}

/** Checks a numeric flag: a safe integer at least `min`. */
export function checkInt(flag: string, v: number | undefined, min: number): number | undefined {
  if (v === undefined) return undefined
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`--${flag} ${v} must be an integer >= ${min}`)
  return v
}
