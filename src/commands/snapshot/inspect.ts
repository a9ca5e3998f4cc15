import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {checkInt} from '../../cli/kv_client.js'
import {checkSnapshotFile, OfflineCommand} from '../../cli/snapshot_command.js'
import {renderTable, formatBytes} from '../../cli/table.js'
import {bytesToString} from '../../client/index.js'
import {inspectSnapshotFile} from '../../kv/index.js'

/** What `raftctl snapshot inspect` prints with --json. */
export interface InspectResult {
  readonly path: string
  readonly size: number
  readonly formatVersion: number
  readonly clusterId: number
  readonly index: number
  readonly term: number
  readonly voters: readonly number[]
  readonly learners: readonly number[]
  readonly learnersNext: readonly number[]
  readonly votersOutgoing: readonly number[]
  readonly autoLeave: boolean
  readonly members: ReadonlyArray<{id: number, name: string, peerUrls: readonly string[], clientUrls: readonly string[]}>
  readonly keyCount: number
  readonly revision: number
  /** The SHA-256 the file carries. */
  readonly checksum: string
  /** True when the content hashes to that checksum. */
  readonly checksumOk: boolean
  /** The first --keys keys (present only with --keys). */
  readonly keys?: readonly string[]
}

const ids = (l: readonly number[]): string => `(${l.join(' ')})`

export default class SnapshotInspect extends OfflineCommand {
  static override summary = 'Describe a snapshot file (offline): what it covers, its membership, keys and checksum.'
  static override description = [
    'Reads the whole file without contacting any node and prints its index, term, configuration',
    '(voters, learners, learners_next, voters_outgoing, auto_leave), members, key count, revision, size and',
    'whether its SHA-256 checksum matches. A truncated or malformed file is one error line and exit code 1;',
    'a file whose checksum does not match is described, then reported the same way.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> snapshot inspect backup.snap',
    '<%= config.bin %> snapshot inspect backup.snap --keys 20',
    '<%= config.bin %> snapshot inspect backup.snap --json',
  ]

  static override args = {
    file: textArg({description: 'The snapshot file.', required: true}),
  }

  static override flags = {
    keys: Flags.integer({char: 'k', summary: 'Also list the first N keys of the file.'}),
  }

  public async run(): Promise<InspectResult> {
    const {args, flags} = await this.parse(SnapshotInspect)
    checkInt('keys', flags.keys, 0)
    checkSnapshotFile(args.file)
    const i = await inspectSnapshotFile(args.file, {keys: flags.keys ?? 0})
    const cs = i.confState
    const result: InspectResult = {
      path: i.path, size: i.size, formatVersion: i.formatVersion, clusterId: i.clusterId, index: i.index, term: i.term,
      voters: cs.voters, learners: cs.learners, learnersNext: cs.learnersNext, votersOutgoing: cs.votersOutgoing,
      autoLeave: cs.autoLeave, members: i.members, keyCount: i.keyCount, revision: i.revision,
      checksum: i.checksum, checksumOk: i.checksumOk,
      ...(flags.keys === undefined ? {} : {keys: i.firstKeys.map(bytesToString)}),
    }
    this.show(result)
    if (!result.checksumOk) {
      process.stderr.write(`Error: snapshot file ${args.file} fails its SHA-256 checksum; it was altered or damaged and must not be restored\n`)
      process.exitCode = 1
    }
    return result
  }

  private show(r: InspectResult): void {
    const rows: Array<[string, string | number]> = [
      ['file', r.path], ['size', `${formatBytes(r.size)} (${r.size} bytes)`], ['format version', r.formatVersion],
      ['cluster id', r.clusterId], ['index', r.index], ['term', r.term],
      ['voters', ids(r.voters)], ['learners', ids(r.learners)], ['learners_next', ids(r.learnersNext)],
      ['voters_outgoing', ids(r.votersOutgoing)], ['auto_leave', String(r.autoLeave)],
      ['key count', r.keyCount], ['revision', r.revision],
      ['checksum', `${r.checksumOk ? 'ok' : 'MISMATCH'} (sha256 ${r.checksum})`],
    ]
    this.log(renderTable(['FIELD', 'VALUE'], rows))
    this.log(renderTable(['MEMBER ID', 'NAME', 'PEER URLS', 'CLIENT URLS'],
      r.members.map((m) => [m.id, m.name, m.peerUrls.join(','), m.clientUrls.join(',')])))
    if (r.keys !== undefined) {
      this.log(`first ${r.keys.length} of ${r.keyCount} keys:`)
      for (const k of r.keys) this.log(`  ${k}`)
    }
  }
}
