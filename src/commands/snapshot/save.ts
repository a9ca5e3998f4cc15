import {existsSync} from 'node:fs'
import {open, rename, rm} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {createProgress} from '../../cli/progress.js'
import {formatBytes} from '../../cli/table.js'
import type {RaftctlClient, SnapshotDownload} from '../../client/index.js'
import {fileChunks, verifySnapshot} from '../../kv/index.js'

/** What `raftctl snapshot save` prints with --json. */
export interface SaveResult {
  readonly path: string
  /** The member the snapshot was downloaded from. */
  readonly endpoint: string
  readonly index: number
  readonly term: number
  readonly size: number
  readonly keyCount: number
  readonly revision: number
  readonly clusterId: number
  /** The file's SHA-256 (verified after the download). */
  readonly checksum: string
}

/** Snapshot downloads may take long; --timeout only bounds them when it is longer than this. */
const MIN_DOWNLOAD_MS = 10 * 60_000

export default class SnapshotSave extends BaseCommand<typeof SnapshotSave> {
  static override summary = 'Back up the cluster: download a member\'s current snapshot into a file.'
  static override description = [
    'Streams the snapshot of the first reachable endpoint (etcd\'s Maintenance Snapshot; it covers that member\'s applied',
    'state) with a progress bar, checks that every byte announced arrived, then the file\'s own SHA-256 and structure,',
    'and only then renames the temporary file to FILE, so FILE is either a complete, verified snapshot or absent.',
    'An existing FILE is kept unless --force. Restore it into a new cluster with `raftctl snapshot restore`.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> snapshot save backup.snap',
    '<%= config.bin %> snapshot save backup.snap --endpoints 127.0.0.1:2379,127.0.0.1:2381 --force',
    '<%= config.bin %> snapshot save backup.snap --json',
  ]

  static override args = {
    file: textArg({description: 'Where to write the snapshot.', required: true}),
  }

  static override flags = {
    force: Flags.boolean({summary: 'Overwrite FILE if it exists.'}),
  }

  public async run(): Promise<SaveResult> {
    const {args, flags} = await this.parse(SnapshotSave)
    const target = resolve(args.file)
    if (existsSync(target) && !flags.force) throw new Error(`${args.file} already exists; pass --force to overwrite it`)
    if (!existsSync(dirname(target))) throw new Error(`the directory of ${args.file} (${dirname(target)}) does not exist`)
    const tmp = join(dirname(target), `.${basename(target)}.part-${process.pid}`)
    return withClient(this.endpoints, this.timeoutMs, async (client) => {
      const dl = await this.firstDownload(client)
      const onSignal = (): void => dl.cancel()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      try {
        await this.writeTemp(dl, tmp)
        const v = await verifySnapshot(fileChunks(tmp), tmp)
        await rename(tmp, target)
        const h = v.header
        const result: SaveResult = {
          path: args.file, endpoint: dl.endpoint, index: h.metadata.index, term: h.metadata.term, size: v.size,
          keyCount: h.keyCount, revision: h.revision, clusterId: h.clusterId, checksum: v.checksum,
        }
        this.log(`saved snapshot to ${args.file} from ${dl.endpoint}: index ${result.index}, term ${result.term}, ` +
          `${result.keyCount} keys at revision ${result.revision}, ${formatBytes(result.size)}, checksum verified (sha256 ${result.checksum})`)
        return result
      } catch (err) {
        await rm(tmp, {force: true})
        throw err
      } finally {
        process.removeListener('SIGINT', onSignal)
        process.removeListener('SIGTERM', onSignal)
      }
    })
  }

  /** Starts the download from the first endpoint that answers. */
  private async firstDownload(client: RaftctlClient): Promise<SnapshotDownload> {
    let last: unknown
    for (const endpoint of client.endpoints) {
      try {
        return await client.snapshot(endpoint, {timeoutMs: Math.max(this.timeoutMs, MIN_DOWNLOAD_MS)})
      } catch (err) {
        last = err
      }
    }
    throw client.endpoints.length > 1
      ? new Error(`no endpoint served a snapshot (${client.endpoints.join(', ')}); last error: ${(last as Error).message}`)
      : last
  }

  /** Writes the download to `tmp` with progress, then fsyncs it. */
  private async writeTemp(dl: SnapshotDownload, tmp: string): Promise<void> {
    const progress = createProgress(`snapshot from ${dl.endpoint}`, 'bytes', this.jsonEnabled())
    const fh = await open(tmp, 'w')
    let written = 0
    try {
      progress.update(0, dl.totalSize)
      for await (const chunk of dl.chunks) {
        await fh.write(chunk)
        written += chunk.length
        progress.update(written, dl.totalSize)
      }
      await fh.sync()
    } finally {
      progress.stop()
      await fh.close()
    }
  }
}
