/**
 * The base of every client command: the common flags (--endpoints, --timeout, --json via oclif's
 * enableJsonFlag), parsing of those flags into checked values, and error mapping so that any
 * failure ends as one clear line on stderr with a non-zero exit code.
 */
import {Command, Flags, Interfaces} from '@oclif/core'
import {EndpointError, parseEndpoint} from '../raftpb/address.js'
import {type CommandFailure, failCommand} from './errors.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

/** Parses a duration such as "500ms", "5s", "2m" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string, flag = '--timeout'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (m === null) throw new Error(`${flag} "${text}" is not a duration such as 500ms, 5s or 2m`)
  const n = Number(m[1])
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
  if (ms <= 0 || !Number.isFinite(ms)) throw new Error(`${flag} "${text}" must be greater than zero`)
  return Math.round(ms)
}

/** Splits and checks a comma-separated endpoint list. */
export function parseEndpoints(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (list.length === 0) throw new EndpointError('--endpoints is empty; give host:port[,host:port...]')
  return list.map((e) => parseEndpoint('--endpoints', e).address)
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    endpoints: Flags.string({
      char: 'e',
      summary: 'Client endpoints of the cluster, comma-separated host:port.',
      default: '127.0.0.1:2379',
      env: 'RAFTCTL_ENDPOINTS',
      helpGroup: 'GLOBAL',
    }),
    timeout: Flags.string({
      summary: 'How long to wait for the cluster before giving up (e.g. 500ms, 5s, 2m).',
      default: '5s',
      helpGroup: 'GLOBAL',
    }),
  }

  protected endpoints: string[] = []
  protected timeoutMs = 5000

  /** Parses the common flags; subclasses call `await this.parse(Cls)` for their own as usual. */
  public override async init(): Promise<void> {
    await super.init()
    const {flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.endpoints = parseEndpoints(flags.endpoints as string)
    this.timeoutMs = parseDuration(flags.timeout as string)
  }

  /** Every error becomes one line naming what was wrong, and exit code 1 (or the error's own). */
  protected override async catch(err: CommandFailure): Promise<unknown> {
    failCommand(this, err, (json) => this.logJson(json))
    return undefined
  }
}
