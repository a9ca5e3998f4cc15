/**
 * The one kind of positional argument raftctl's commands take: a string that is never filled
 * from standard input. oclif otherwise reads a missing argument from piped stdin, trimmed and
 * with its line endings rewritten (`echo v | raftctl kv put k` would have taken "v" as an
 * argument); the commands that read stdin (`kv put`) do it themselves, byte for byte.
 */
import {Args} from '@oclif/core'

export const textArg = Args.custom<string>({ignoreStdin: true})
