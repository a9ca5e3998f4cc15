/**
 * The bases of raftctl's commands. RaftctlCommand (every command but `server start` and
 * `version`): --json through oclif's enableJsonFlag, the output format of read commands
 * (src/cli/output.ts), the refusal of flag environment variables that are set but empty, and
 * error mapping so that any failure ends as one clear line on stderr with a non-zero exit code.
 * BaseCommand adds what a client command needs: --endpoints and --timeout, parsed and checked.
 */
import {Command, Flags, Interfaces} from '@oclif/core'
import {EndpointError, parseEndpoint} from '../raftpb/address.js'
import {durationMs, MAX_DURATION_MS} from '../raftpb/duration.js'
import {type CommandFailure, failCommand} from './errors.js'
import {UsageError} from './member_args.js'
import {chooseFormat, type WriteOut} from './output.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

export {MAX_DURATION_MS}

/**
 * Parses a duration such as "500ms", "5s", "2m" (src/raftpb/duration.ts) or a bare number of
 * seconds into milliseconds. Invariant: the result is an integer from 1 to MAX_DURATION_MS (about
 * 24.8 days), so every timer and deadline built from it waits as long as asked.
 */
export function parseDuration(text: string, flag = '--timeout'): number {
  const ms = durationMs(text, 's')
  if (ms === undefined) throw new UsageError(`${flag} "${text}" is not a duration such as 500ms, 5s or 2m`)
  if (!Number.isFinite(ms) || ms < 1) throw new UsageError(`${flag} "${text}" must be at least 1ms`)
  if (ms > MAX_DURATION_MS) {
    throw new UsageError(`${flag} "${text}" is too long; the longest is ${MAX_DURATION_MS}ms (about 24.8 days)`)
  }
  return ms
}

/** Splits and checks a comma-separated endpoint list. */
export function parseEndpoints(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (list.length === 0) throw new EndpointError('--endpoints is empty; give host:port[,host:port...]')
  return list.map((e) => parseEndpoint('--endpoints', e).address)
}

/**
 * Refuses an environment variable that backs a flag and is set but empty (or blank): oclif would
 * silently use the flag's default instead, e.g. talk to 127.0.0.1:2379 when RAFTCTL_ENDPOINTS="".
 * A flag given on the command line wins over the environment, so its variable is not checked.
 */
export function checkFlagEnvironment(flags: Readonly<Record<string, {env?: string}>>, given: ReadonlySet<string>,
  env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, def] of Object.entries(flags)) {
    const value = def.env === undefined ? undefined : env[def.env]
    if (value !== undefined && value.trim() === '' && !given.has(name)) {
      throw new UsageError(`${def.env} is set but empty; give it a value (as for --${name}) or unset it`)
    }
  }
}

export abstract class RaftctlCommand extends Command {
  static override enableJsonFlag = true

  /** oclif's --json, with help that says how it relates to --write-out json. */
  static override baseFlags = {
    json: Flags.boolean({
      summary: 'Print the result as raftctl\'s JSON object (for read commands, --write-out json prints etcdctl\'s JSON instead).',
      helpGroup: 'GLOBAL',
    }),
  }

  /** The flags given on the command line (not those from the environment or defaults). */
  protected given = new Set<string>()
  private writeOut: WriteOut | undefined

  /** Parses once for the common checks; subclasses call `await this.parse(Cls)` for their own as usual. */
  public override async init(): Promise<void> {
    await super.init()
    const ctor = this.ctor as typeof RaftctlCommand
    const flags = {...ctor.baseFlags, ...ctor.flags}
    const parsed = await this.parse({flags: ctor.flags, baseFlags: ctor.baseFlags, enableJsonFlag: ctor.enableJsonFlag, args: ctor.args, strict: ctor.strict})
    this.given = new Set(parsed.raw.flatMap((t) => t.type === 'flag' ? [t.flag] : []))
    checkFlagEnvironment(flags as Record<string, {env?: string}>, this.given)
    this.writeOut = (parsed.flags as {'write-out'?: WriteOut})['write-out']
    await this.initFlags(parsed.flags as Record<string, unknown>)
  }

  /** Checks the subclass's common flags (see BaseCommand). */
  protected async initFlags(_flags: Record<string, unknown>): Promise<void> {}

  /** The format this run prints in (see src/cli/output.ts); 'result' for --json. */
  protected outputFormat(fallback?: WriteOut): WriteOut | 'result' {
    return chooseFormat({
      writeOut: this.writeOut, explicit: this.given.has('write-out'), json: this.jsonEnabled(), tty: process.stdout.isTTY === true, fallback,
    })
  }

  /** Every error becomes one line naming what was wrong, and exit code 1 (or the error's own). */
  protected override async catch(err: CommandFailure): Promise<unknown> {
    failCommand(this, err, (json) => this.logJson(json))
    return undefined
  }
}

export abstract class BaseCommand<T extends typeof Command> extends RaftctlCommand {
  static override baseFlags = {
    ...RaftctlCommand.baseFlags,
    endpoints: Flags.string({
      char: 'e',
      summary: 'Client endpoints of the cluster, comma-separated host:port.',
      default: '127.0.0.1:2379',
      env: 'RAFTCTL_ENDPOINTS',
      helpGroup: 'GLOBAL',
    }),
    timeout: Flags.string({
      summary: 'How long to wait for the cluster before giving up (e.g. 500ms, 5s, 2m; at most 24 days).',
      default: '5s',
      helpGroup: 'GLOBAL',
    }),
  }

  protected endpoints: string[] = []
  protected timeoutMs = 5000

  protected override async initFlags(flags: Record<string, unknown>): Promise<void> {
    this.endpoints = parseEndpoints(flags.endpoints as string)
    this.timeoutMs = parseDuration(flags.timeout as string)
  }
}
