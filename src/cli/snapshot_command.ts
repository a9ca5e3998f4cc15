/**
 * The base of the offline snapshot commands (inspect, restore): they read and write local files
 * only, so they have --json but not --endpoints or --timeout. Errors end as one line naming what
 * was wrong (the same mapping as BaseCommand) with a non-zero exit code.
 */
import {statSync} from 'node:fs'
import {Command} from '@oclif/core'
import {type CommandFailure, describeError, failCommand} from './errors.js'

export abstract class OfflineCommand extends Command {
  static override enableJsonFlag = true

  /** Every error becomes one line naming what was wrong, and exit code 1 (or the error's own). */
  protected override async catch(err: CommandFailure): Promise<unknown> {
    failCommand(this, err, (json) => this.logJson(json))
    return undefined
  }
}

/** Throws one clear line unless `path` is an existing regular file. */
export function checkSnapshotFile(path: string): void {
  let st
  try {
    st = statSync(path)
  } catch (err) {
    if ((err as {code?: string}).code === 'ENOENT') throw new Error(`snapshot file ${path} does not exist`)
    throw new Error(`cannot read snapshot file ${path}: ${describeError(err)}`)
  }
  if (!st.isFile()) throw new Error(`${path} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not a snapshot file`)
}
