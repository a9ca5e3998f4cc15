import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {checkInt, kvToJson, withClient} from '../../cli/kv_client.js'
import {type Event, Event_EventType} from '../../generated/raftctl/v1/kv.js'

/** One event as printed (one JSON object per line with --json). */
export interface WatchEventJson {
  readonly type: 'PUT' | 'DELETE'
  readonly key: string
  /** The new value (empty for DELETE). */
  readonly value: string
  /** The revision of the write that caused the event. */
  readonly revision: number
  readonly createRevision: number
  readonly modRevision: number
  readonly version: number
}

export function eventToJson(e: Event, revision: number): WatchEventJson {
  const kv = e.kv === undefined ? {key: '', value: '', createRevision: 0, modRevision: revision, version: 0} : kvToJson(e.kv)
  return {type: e.type === Event_EventType.DELETE ? 'DELETE' : 'PUT', ...kv, revision}
}

export default class KvWatch extends BaseCommand<typeof KvWatch> {
  static override summary = 'Print every change of a key or prefix as it happens, until Ctrl-C.'
  static override description = [
    'Prints one line per event ("PUT key = value (revision N)" or "DELETE key (revision N)"),',
    'or one JSON object per line with --json. With --rev it starts at that revision (replaying retained history),',
    'otherwise at the next write. When the member serving the watch goes away the watch resumes on another endpoint',
    'without losing or repeating events; if no endpoint serves it for --timeout it fails.',
    'Ctrl-C (SIGINT) or SIGTERM ends it with exit code 0.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv watch config/db-url',
    '<%= config.bin %> kv watch config/ --prefix',
    '<%= config.bin %> kv watch config/ --prefix --rev 120 --json',
  ]

  static override args = {
    key: textArg({description: 'The key (or the prefix with --prefix).', required: true}),
  }

  static override flags = {
    prefix: Flags.boolean({char: 'p', summary: 'Watch every key that starts with KEY.'}),
    rev: Flags.integer({summary: 'Start at this revision (0: from the next write).', default: 0}),
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(KvWatch)
    if (args.key === '') throw new Error('the key is empty; give a non-empty key (use --prefix with a prefix)')
    checkInt('rev', flags.rev, 0)
    const json = this.jsonEnabled()
    await withClient(this.endpoints, this.timeoutMs, async (client) => {
      const stream = client.watch(args.key, {prefix: flags.prefix, startRevision: flags.rev, resumeTimeoutMs: this.timeoutMs})
      const stop = (): void => stream.cancel()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      const what = flags.prefix ? `keys with prefix "${args.key}"` : `key "${args.key}"`
      this.logToStderr(`watching ${what} from ${flags.rev > 0 ? `revision ${flags.rev}` : 'the next write'}; Ctrl-C to stop`)
      try {
        for await (const batch of stream) {
          for (const e of batch.events) {
            const ev = eventToJson(e, batch.revision)
            process.stdout.write(json ? `${JSON.stringify(ev)}\n` : `${formatEvent(ev)}\n`)
          }
        }
      } finally {
        process.removeListener('SIGINT', stop)
        process.removeListener('SIGTERM', stop)
        stream.cancel()
      }
    })
  }
}

function formatEvent(e: WatchEventJson): string {
  return e.type === 'PUT' ? `PUT ${e.key} = ${e.value} (revision ${e.revision})` : `DELETE ${e.key} (revision ${e.revision})`
}
