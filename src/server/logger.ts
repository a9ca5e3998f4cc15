/**
 * Structured logging for a node: one line per notable event, with fields. pino writes JSON lines
 * (--log-format json); pino-pretty renders the same records as single text lines (--log-format
 * text). Both write synchronously to stderr so a line is never lost when the process exits.
 */
import {pino, type Logger} from 'pino'
import pretty from 'pino-pretty'
import type {LogFormat, LogLevel} from './config.js'

export type NodeLogger = Logger

export interface LoggerOptions {
  readonly level: LogLevel
  readonly format: LogFormat
  readonly nodeId: number
  /** Where lines go; defaults to stderr (fd 2). */
  readonly destination?: NodeJS.WritableStream
}

/** Creates the node's logger; every line carries the node id. */
export function createLogger(opts: LoggerOptions): NodeLogger {
  const base = {node: opts.nodeId}
  if (opts.format === 'json') {
    const dest = opts.destination ?? pino.destination({fd: 2, sync: true})
    return pino({level: opts.level, base, timestamp: pino.stdTimeFunctions.isoTime}, dest)
  }
  const stream = pretty({
    sync: true,
    colorize: false,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    destination: opts.destination ?? 2,
  })
  return pino({level: opts.level, base}, stream)
}
