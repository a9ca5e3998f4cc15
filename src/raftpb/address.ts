/**
 * Parsing of network endpoints ("host:port", optionally written as "http://host:port") as they
 * enter from flags, config files and member metadata. Shared by the server, the client and the
 * CLI so that every layer refuses the same malformed input with the same message.
 */
import {CodedError, withCode} from '../raft/errors.js'

/** Raised for an endpoint that is not host:port with a port in 1..65535. */
export class EndpointError extends withCode(CodedError, 'BAD_ENDPOINT') {}

export interface Endpoint {
  readonly host: string
  readonly port: number
  /** The canonical form "host:port" (IPv6 hosts in brackets). */
  readonly address: string
}

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/**
 * Parses `text` as host:port. `what` names the value in errors (e.g. "--peer-url"). Port 0 is
 * accepted only when `allowPortZero` (listen addresses that ask the OS for a free port).
 */
export function parseEndpoint(what: string, text: string, allowPortZero = false): Endpoint {
  const raw = text.trim().replace(/^(https?|grpc):\/\//, '').replace(/\/$/, '')
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/]+):(\d{1,5})$/.exec(raw)
  if (m === null) {
    throw new EndpointError(`${what} "${text}" is not host:port (for example 127.0.0.1:2380)`)
  }
  const host = m[1]
  const port = Number(m[2])
  const hostOk = host.startsWith('[') || HOST_RE.test(host)
  if (!hostOk) throw new EndpointError(`${what} "${text}" has an invalid host "${host}"`)
  if (port > 65535 || (port === 0 && !allowPortZero)) {
    throw new EndpointError(`${what} "${text}" has port ${port}; use 1..65535`)
  }
  return {host, port, address: `${host}:${port}`}
}
