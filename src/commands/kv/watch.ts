import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {checkInt, withClient} from '../../cli/kv_client.js'
import {type KeyValueJson, kvToJson, watchView} from '../../cli/kv_output.js'
import {checkRangeKey, describeRange, rangeFlags} from '../../cli/kv_range.js'
import {emit, hexFlag, writeOutFlag, writeRaw} from '../../cli/output.js'
import {type Event, Event_EventType} from '../../generated/etcd/mvccpb/kv.js'

/** One event as printed with --json (one JSON object per line). */
export interface WatchEventJson extends KeyValueJson {
  readonly type: 'PUT' | 'DELETE'
  /** The revision of the write that caused the event. */
  readonly revision: number
  /** The key before the event (with --prev-kv, when the key existed). */
  readonly prevKv?: KeyValueJson
}

export function eventToJson(e: Event, revision: number): WatchEventJson {
  const kv = e.kv === undefined ? {key: '', value: '', createRevision: 0, modRevision: revision, version: 0} : kvToJson(e.kv)
  return {type: e.type === Event_EventType.DELETE ? 'DELETE' : 'PUT', ...kv, revision, ...(e.prevKv === undefined ? {} : {prevKv: kvToJson(e.prevKv)})}
}

export default class KvWatch extends BaseCommand<typeof KvWatch> {
  static override summary = 'Print every change of a key, a prefix, a range from a key on or the whole key space, until Ctrl-C.'
  static override description = [
    'Output (-w): table on a terminal, one line per event ("PUT key = value (revision N)" or "DELETE key (revision N)",',
    'escaped, long values cut); simple otherwise, as etcdctl: PUT or DELETE, the key and the value, one line each, with',
    'the exact bytes; json: one etcdctl WatchResponse object per revision and line (bytes base64); fields.',
    '--json prints one raftctl event object per line instead. With --rev it starts at that revision, replaying the',
    'history every member keeps on disk until it is compacted (a compacted revision fails, naming the compact revision),',
    'otherwise at the next write. --prev-kv adds the key\'s previous value to each event (etcdctl prints it before the new',
    'one). When the member serving the watch goes away the watch resumes on another endpoint without losing or repeating',
    'events; if no endpoint serves it for --timeout it fails.',
    'Ctrl-C (SIGINT) or SIGTERM ends it with exit code 0.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv watch config/db-url',
    '<%= config.bin %> kv watch config/ --prefix',
    '<%= config.bin %> kv watch "" --prefix -w json',
    '<%= config.bin %> kv watch config/ --prefix --rev 120 --json',
    '<%= config.bin %> kv watch config/db-url --prev-kv -w table',
  ]

  static override args = {
    key: textArg({description: 'The key (or the prefix with --prefix, the first key with --from-key).', required: true}),
  }

  static override flags = {
    ...rangeFlags('Watch'),
    rev: Flags.integer({summary: 'Start at this revision (0: from the next write).', default: 0}),
    'prev-kv': Flags.boolean({summary: 'Include each key\'s value before the event.', default: false}),
    ...writeOutFlag,
    ...hexFlag,
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(KvWatch)
    checkRangeKey(args.key, flags)
    checkInt('rev', flags.rev, 0)
    const format = this.outputFormat()
    await withClient(this.endpoints, this.timeoutMs, async (client) => {
      const stream = client.watch(args.key, {
        prefix: flags.prefix, fromKey: flags['from-key'], startRevision: flags.rev, prevKv: flags['prev-kv'], resumeTimeoutMs: this.timeoutMs,
      })
      const stop = (): void => stream.cancel()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      this.logToStderr(`watching ${describeRange(args.key, flags)} from ${flags.rev > 0 ? `revision ${flags.rev}` : 'the next write'}; Ctrl-C to stop`)
      try {
        for await (const batch of stream) {
          if (format === 'result') writeRaw(batch.events.map((e) => `${JSON.stringify(eventToJson(e, batch.revision))}\n`))
          else emit(format, watchView, {...batch, hex: flags.hex})
        }
      } finally {
        process.removeListener('SIGINT', stop)
        process.removeListener('SIGTERM', stop)
        stream.cancel()
      }
    })
  }
}
