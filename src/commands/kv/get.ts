import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {checkInt, withClient} from '../../cli/kv_client.js'
import {getView, type KeyValueJson, kvToJson} from '../../cli/kv_output.js'
import {checkRangeKey, describeRange, rangeFlags} from '../../cli/kv_range.js'
import {UsageError} from '../../cli/member_args.js'
import {emit, hexFlag, writeOutFlag} from '../../cli/output.js'

/** What `raftctl kv get` prints with --json. */
export interface GetResult {
  /** The store revision the read saw. */
  readonly revision: number
  /** Keys in the range (before --limit). */
  readonly count: number
  /** True when --limit cut the result. */
  readonly more: boolean
  readonly kvs: readonly KeyValueJson[]
}

export default class KvGet extends BaseCommand<typeof KvGet> {
  static override summary = 'Read a key, a prefix, every key from a key on, or the whole key space.'
  static override description = [
    'Reads the latest committed value (a linearizable read: the answering member confirms it with the leader) unless --serializable,',
    'which lets the member that answers serve its own state (faster, may be stale).',
    'Output (-w): table on a terminal (escaped, long values cut); simple otherwise: a key line and a value line per key,',
    'written as the exact stored bytes; json as etcdctl\'s (keys and values base64); fields.',
    '--print-value-only writes only the values, exactly as stored and separated by newlines (no newline after the last',
    'unless stdout is a terminal), so `kv get KEY --print-value-only > FILE` reproduces a binary value byte for byte.',
    '--json prints raftctl\'s result object instead: keys and values as text, or base64 with keyEncoding/valueEncoding',
    '"base64" when they are not UTF-8. A missing key prints nothing (a sentence in the table format) and exits 0.',
    '--rev reads the keys as they were at that revision: every revision is kept until it is compacted (raftctl compact);',
    'a compacted or future revision is refused, naming the compact or current revision.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv get config/db-url',
    '<%= config.bin %> kv get config/ --prefix --limit 10',
    '<%= config.bin %> kv get "" --prefix --keys-only',
    '<%= config.bin %> kv get config/m --from-key -w json',
    '<%= config.bin %> kv get blobs/logo --print-value-only > logo.png',
    '<%= config.bin %> kv get config/ --prefix --count-only --json',
    '<%= config.bin %> kv get config/db-url --rev 42',
  ]

  static override args = {
    key: textArg({description: 'The key (or the prefix with --prefix, the first key with --from-key).', required: true}),
  }

  static override flags = {
    ...rangeFlags('Read'),
    limit: Flags.integer({char: 'l', summary: 'Return at most this many keys (0: no limit).', default: 0}),
    serializable: Flags.boolean({char: 's', summary: 'Let the answering member serve its own, possibly stale, state.'}),
    rev: Flags.integer({summary: 'Read the keys as they were at this revision (0 = latest).', default: 0}),
    'keys-only': Flags.boolean({summary: 'Print only the keys.'}),
    'count-only': Flags.boolean({summary: 'Print only how many keys match.', exclusive: ['keys-only', 'print-value-only']}),
    'print-value-only': Flags.boolean({summary: 'Print only the values, exactly as stored (simple output).', exclusive: ['keys-only']}),
    ...writeOutFlag,
    ...hexFlag,
  }

  public async run(): Promise<GetResult> {
    const {args, flags} = await this.parse(KvGet)
    checkRangeKey(args.key, flags)
    checkInt('limit', flags.limit, 0)
    checkInt('rev', flags.rev, 0)
    const format = this.outputFormat(flags['print-value-only'] ? 'simple' : undefined)
    if (flags['print-value-only'] && format !== 'simple') {
      throw new UsageError(`--print-value-only writes the simple output; it cannot be combined with ${format === 'result' ? '--json' : `--write-out ${format}`}`)
    }
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.range(args.key, {
      prefix: flags.prefix, fromKey: flags['from-key'], limit: flags.limit, serializable: flags.serializable, revision: flags.rev,
      keysOnly: flags['keys-only'], countOnly: flags['count-only'],
    }))
    if (format !== 'result') {
      emit(format, getView, {
        res, what: describeRange(args.key, flags), hex: flags.hex, keysOnly: flags['keys-only'], countOnly: flags['count-only'],
        printValueOnly: flags['print-value-only'], tty: process.stdout.isTTY === true,
      })
    }
    return {revision: res.header?.revision ?? 0, count: res.count, more: res.more, kvs: res.kvs.map(kvToJson)}
  }
}
