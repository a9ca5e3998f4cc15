import {Flags} from '@oclif/core'
import {textArg} from '../cli/args.js'
import {BaseCommand} from '../cli/base.js'
import {aborted, untilInterrupted, withEtcd} from '../cli/coord.js'
import {runHolding, sessionLost} from '../cli/hold.js'
import {UsageError} from '../cli/member_args.js'
import {writeRaw} from '../cli/output.js'
import {printable} from '../cli/printable.js'
import {type EtcdClient, leaseHex, Mutex, Session, type SessionEnd} from '../client/concurrency/index.js'
import {oldestUnder} from '../client/concurrency/etcd.js'
import {namePrefix} from '../client/concurrency/mutex.js'

/** What `raftctl lock` prints with --json once it holds the lock (one line). */
export interface LockHeld {
  readonly name: string
  /** The lock key, `<name>/<lease id in hex>`. */
  readonly key: string
  /** The lock key's create revision: the fencing token of this tenure. */
  readonly revision: number
  /** The revision of the read that found the lock held (etcdctl's ETCD_LOCK_REV). */
  readonly heldAt: number
  /** The session's lease id in hex. */
  readonly lease: string
}

export default class Lock extends BaseCommand<typeof Lock> {
  static override strict = false
  static override summary = 'Acquire a distributed lock, run a command while holding it, and release it when the command ends.'
  static override description = [
    'Takes the lock NAME with etcd\'s lock recipe (the key <name>/<lease id in hex>, put with a session lease of --ttl seconds',
    'kept alive while raftctl runs), so it contends with `etcdctl lock`, etcd\'s Lock service and other clients on the same name;',
    'waiters get the lock in arrival order. While waiting it prints "waiting for lock NAME (held by KEY)" on stderr.',
    'With a command (after --), runs it once the lock is held, with RAFTCTL_LOCK_KEY set to the lock key and RAFTCTL_LOCK_REV to',
    'its create revision (a fencing token that grows from holder to holder), and etcdctl\'s ETCD_LOCK_KEY and ETCD_LOCK_REV (the',
    'revision at which the lock was found held), releases the lock when it ends and exits with its exit code',
    '(128+N when signal N killed it); SIGINT and SIGTERM are passed on to it. Without a command, prints the lock key and holds',
    'the lock until Ctrl-C (SIGINT) or SIGTERM. If the session is lost (its lease expired or no keep-alive was confirmed',
    'within the TTL, e.g. cut off from the cluster), that is reported on stderr at once, the command gets SIGTERM, and',
    'raftctl exits with code 1. A raftctl killed with kill -9 loses the lock when its lease expires, within --ttl seconds.',
    'Output: the key (simple) or, with --json, one JSON object once the lock is held.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> lock backup -- ./backup.sh',
    '<%= config.bin %> lock cron/report --ttl 30 -- sh -c \'make report\'',
    '<%= config.bin %> lock maintenance',
  ]

  static override args = {
    name: textArg({description: 'The lock name (the prefix of its keys).', required: true}),
  }

  static override flags = {
    ttl: Flags.integer({summary: 'TTL of the session lease in seconds: how long the lock outlives a raftctl that died.', default: 10, min: 1}),
  }

  public async run(): Promise<void> {
    const {args, flags, raw} = await this.parse(Lock)
    if (args.name === '') throw new UsageError('the lock name is empty; give a non-empty name')
    const command = raw.flatMap((t) => t.type === 'arg' ? [t.input] : []).slice(1)
    await withEtcd(this.endpoints, this.timeoutMs, (client) => untilInterrupted(async (signal) => {
      const session = await Session.create(client, {ttl: flags.ttl, signal})
      const mutex = new Mutex(session, args.name)
      try {
        const held = await this.acquire(client, session, mutex, args.name, signal)
        if (held === undefined) return
        const end = command.length === 0 ? await this.hold(held, session, signal) : await this.runCommand(held, command, session)
        if (end.lost !== undefined) process.exitCode = 1
        else if (end.code !== 0) process.exitCode = end.code
      } finally {
        await release(mutex, session, this.timeoutMs)
      }
    }))
  }

  /** Waits for the lock (printing who holds it); undefined when interrupted or the session ended first. */
  private async acquire(client: EtcdClient, session: Session, mutex: Mutex, name: string, signal: AbortSignal): Promise<LockHeld | undefined> {
    const lost = new AbortController()
    session.onEnd((end) => lost.abort(new Error(end.message)))
    const both = AbortSignal.any([signal, lost.signal])
    let settled = false
    const locking = mutex.lock(both).finally(() => { settled = true })
    const own = `${name}/${leaseHex(session.lease)}`
    void client.range(oldestUnder(namePrefix(name)), both).then((res) => {
      const holder = res.kvs[0] === undefined ? undefined : Buffer.from(res.kvs[0].key).toString('utf8')
      if (!settled && holder !== undefined && holder !== own) process.stderr.write(`waiting for lock ${printable(name).text} (held by ${printable(holder).text})\n`)
    }, () => undefined)
    try {
      await locking
    } catch (err) {
      if (signal.aborted) return undefined
      const end = session.ended
      if (end !== undefined && end.reason !== 'closed') throw new Error(`session lost while waiting for lock ${printable(name).text}: ${end.message}`)
      throw err
    }
    return {
      name, key: Buffer.from(mutex.key).toString('utf8'), revision: mutex.revision, heldAt: mutex.header?.revision ?? mutex.revision,
      lease: leaseHex(session.lease),
    }
  }

  /** Prints the key and holds until interrupted or the session ends. */
  private async hold(held: LockHeld, session: Session, signal: AbortSignal): Promise<{code: number, lost?: SessionEnd}> {
    writeRaw([this.jsonEnabled() ? `${JSON.stringify(held)}\n` : `${held.key}\n`])
    const end = await Promise.race([aborted(signal).then(() => undefined), sessionLost(session)])
    if (end === undefined) return {code: 0}
    this.lostLine(held.name, end)
    return {code: 1, lost: end}
  }

  private async runCommand(held: LockHeld, command: string[], session: Session): Promise<{code: number, lost?: SessionEnd}> {
    if (this.jsonEnabled()) writeRaw([`${JSON.stringify(held)}\n`])
    const env = {ETCD_LOCK_KEY: held.key, ETCD_LOCK_REV: String(held.heldAt), RAFTCTL_LOCK_KEY: held.key, RAFTCTL_LOCK_REV: String(held.revision)}
    return runHolding(command, env, session,
      (end) => this.lostLine(held.name, end, command[0]))
  }

  /** Reports a lost lock at once, as one line (a JSON error object with --json). */
  private lostLine(name: string, end: SessionEnd, signalled?: string): void {
    const line = `lost lock ${printable(name).text}: ${end.message}${signalled === undefined ? '' : `; sent SIGTERM to ${signalled}`}`
    if (this.jsonEnabled()) this.logJson({error: {message: line, code: 'LOCK_LOST'}})
    else process.stderr.write(`Error: ${line}\n`)
  }
}

/** Releases the lock and revokes the session lease, each bounded by `timeoutMs`; errors are left (the lease expires anyway). */
async function release(mutex: Mutex, session: Session, timeoutMs: number): Promise<void> {
  if (session.ended === undefined && mutex.key.length > 0) await mutex.unlock(AbortSignal.timeout(timeoutMs)).catch(() => undefined)
  if (session.ended === undefined || session.ended.reason !== 'closed') await session.close(AbortSignal.timeout(timeoutMs)).catch(() => undefined)
}
