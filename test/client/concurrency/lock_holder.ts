/**
 * A lock holder in a process of its own, for the tests that kill a holder (kill -9 leaves its
 * lease to expire): `lock_holder.ts <endpoint> <lock name> <ttl seconds>` opens a session,
 * takes the mutex, prints `LOCKED <key> <revision>` and holds it until killed. On SIGTERM it
 * unlocks, closes the session and exits 0. Any failure prints `ERROR <message>` and exits 1.
 */
import {EtcdClient, Mutex, Session} from '../../../src/client/concurrency/index.js'

async function main(): Promise<void> {
  const [endpoint, name, ttl] = process.argv.slice(2)
  const client = new EtcdClient(endpoint)
  const session = await Session.create(client, {ttl: Number(ttl)})
  const mutex = new Mutex(session, name)
  await mutex.lock(AbortSignal.timeout(60_000))
  console.log(`LOCKED ${Buffer.from(mutex.key).toString()} ${mutex.revision}`)
  process.once('SIGTERM', () => {
    void mutex.unlock().then(() => session.close()).then(() => process.exit(0), () => process.exit(1))
  })
  session.onEnd((end) => {
    if (end.reason !== 'closed') {
      console.log(`LOST ${end.message}`)
      process.exit(2)
    }
  })
}

main().catch((err: unknown) => {
  console.log(`ERROR ${(err as Error).message}`)
  process.exit(1)
})
