/** The peer-to-peer transport: PeerTransport sends, PeerServer receives. */
export {PeerTransport, type PeerTransportOptions} from './transport.js'
export {PeerServer, type PeerServerOptions} from './peer_server.js'
export {type PeerStats, type PipeState} from './peer_pipe.js'
export {DEFAULT_LIMITS, reconnectBackoff, type TransportLimits, type TransportLogger} from './options.js'
export {PeerRefusal, TransportError, type TransportErrorCode} from './errors.js'
