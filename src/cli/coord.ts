/**
 * What the lease, lock and elect commands share: a client of etcd's API on the first endpoint
 * that answers (src/client/concurrency/connect.ts), always closed afterwards; lease ids read and
 * written in hex as etcdctl does; and a stop signal for commands that hold until Ctrl-C.
 */
import {connectEtcd, type EtcdClient} from '../client/concurrency/index.js'
import {UsageError} from './member_args.js'

const MAX_LEASE_ID = (1n << 63n) - 1n

/** Runs `fn` with a client of the first answering endpoint and closes it afterwards, whatever happens. */
export async function withEtcd<T>(endpoints: readonly string[], timeoutMs: number, fn: (c: EtcdClient) => Promise<T>): Promise<T> {
  const client = await connectEtcd(endpoints, {timeoutMs})
  try {
    return await fn(client)
  } finally {
    client.close()
  }
}

/**
 * Parses a lease id as etcdctl takes it: hexadecimal, as `lease grant` and `lease list` print it
 * (an optional 0x is accepted). Invariant: the result is from 1 to 2^63-1, an etcd lease id.
 */
export function parseLeaseId(text: string): bigint {
  const t = text.trim().replace(/^0x/i, '')
  if (!/^[0-9a-f]{1,16}$/i.test(t)) {
    throw new UsageError(`lease id "${text}" is not hexadecimal; give the id as \`raftctl lease list\` prints it (e.g. 694d77aa9e38260f)`)
  }
  const id = BigInt(`0x${t}`)
  if (id === 0n || id > MAX_LEASE_ID) throw new UsageError(`lease id "${text}" is out of range; a lease id is from 1 to 7fffffffffffffff`)
  return id
}

/** A lease id as etcdctl prints it: 16 lower-case hex digits (Go's %016x). */
export const leaseIdText = (id: bigint): string => id.toString(16).padStart(16, '0')

/**
 * An AbortSignal that fires at the first SIGINT or SIGTERM while `fn` runs (Ctrl-C ends a wait or
 * a hold cleanly); the listeners are removed when `fn` settles. `fn` gets the signal and the
 * name of the OS signal once one arrived.
 */
export async function untilInterrupted<T>(fn: (signal: AbortSignal, received: () => NodeJS.Signals | undefined) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  let got: NodeJS.Signals | undefined
  const on = (sig: NodeJS.Signals) => (): void => {
    got ??= sig
    ac.abort(new Error(`interrupted by ${sig}`))
  }
  const onInt = on('SIGINT')
  const onTerm = on('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  try {
    return await fn(ac.signal, () => got)
  } finally {
    process.removeListener('SIGINT', onInt)
    process.removeListener('SIGTERM', onTerm)
  }
}

/** Resolves when `signal` fires (at once if it has). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), {once: true})
  })
}

/** Waits `ms`, or less if `signal` fires. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    if (signal.aborted) done()
    else signal.addEventListener('abort', done, {once: true})
  })
}
