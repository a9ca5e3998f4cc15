import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {parseLeaseId} from '../../cli/coord.js'
import {withClient} from '../../cli/kv_client.js'
import {type KeyValueJson, kvToJson} from '../../cli/kv_output.js'
import {UsageError} from '../../cli/member_args.js'
import {printable} from '../../cli/printable.js'
import {resolvePutValue} from '../../cli/kv_input.js'

/** What `raftctl kv put` prints with --json. */
export interface PutResult {
  readonly key: string
  /** The store revision of the write. */
  readonly revision: number
  /** The key's previous value (with --prev-kv, when it existed). */
  readonly prevKv?: KeyValueJson
}

export default class KvPut extends BaseCommand<typeof KvPut> {
  static override summary = 'Write a key: set it to a value given as an argument, from a file or from stdin.'
  static override description = [
    'Writes one key through the leader and waits until the write is committed.',
    'The value comes from the VALUE argument, from --file, or from standard input when VALUE is "-" or omitted while input is piped.',
    'A terminal on stdin is never read. Prints "OK" and the revision; --prev-kv also prints the value it replaced',
    '(control characters and bytes that are not UTF-8 escaped; `kv get --print-value-only` prints values exactly).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv put config/db-url postgres://db:5432/app',
    'echo -n secret | <%= config.bin %> kv put config/token',
    '<%= config.bin %> kv put config/app.yaml --file app.yaml',
    '<%= config.bin %> kv put config/mode blue --prev-kv --json',
    '<%= config.bin %> kv put services/web/host-a 10.0.0.5:8080 --lease 694d77aa9e38260f',
  ]

  static override args = {
    key: textArg({description: 'The key to write.', required: true}),
    value: textArg({description: 'The value; "-" or omitted (with piped input) reads standard input.'}),
  }

  static override flags = {
    file: Flags.string({char: 'f', summary: 'Read the value from this file.'}),
    'prev-kv': Flags.boolean({summary: 'Also print the value the write replaced.'}),
    lease: Flags.string({summary: 'Attach the key to this lease (its id in hex, as `raftctl lease grant` prints it): the key is deleted when the lease ends.'}),
  }

  public async run(): Promise<PutResult> {
    const {args, flags} = await this.parse(KvPut)
    if (args.key === '') throw new UsageError('the key is empty; give a non-empty key')
    const lease = flags.lease === undefined ? undefined : parseLeaseId(flags.lease)
    const value = await resolvePutValue(args.value, flags.file)
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.put(args.key, value, {prevKv: flags['prev-kv'], lease}))
    const result: PutResult = {
      key: args.key, revision: res.header?.revision ?? 0,
      ...(res.prevKv === undefined ? {} : {prevKv: kvToJson(res.prevKv)}),
    }
    this.log(`OK (revision ${result.revision})`)
    if (flags['prev-kv']) {
      this.log(res.prevKv === undefined ? `previous: none (${printable(args.key).text} did not exist)` : `previous: ${printable(res.prevKv.value).text}`)
    }
    return result
  }
}
