/**
 * Byte encodings of the core types: protobuf (eraftpb) on the wire and on disk. Decoders throw
 * WireDecodeError with the name of the type and the field that was wrong.
 */
import * as wire from '../generated/eraftpb.js'
import type {ConfState, Entry, HardState, Message, Snapshot, SnapshotMetadata} from '../raft/types.js'
import {decodeWith} from './checked.js'
import {
  confStateFromWire, confStateToWire, entryFromWire, entryToWire, hardStateFromWire,
  hardStateToWire, messageFromWire, messageToWire, snapshotFromWire, snapshotMetadataFromWire,
  snapshotMetadataToWire, snapshotToWire,
} from './convert.js'

export const encodeEntry = (e: Entry): Uint8Array => wire.Entry.encode(entryToWire(e)).finish()
export const decodeEntry = (b: Uint8Array): Entry =>
  decodeWith('eraftpb.Entry', () => entryFromWire(wire.Entry.decode(b)))

export const encodeMessage = (m: Message): Uint8Array =>
  wire.Message.encode(messageToWire(m)).finish()
export const decodeMessage = (b: Uint8Array): Message =>
  decodeWith('eraftpb.Message', () => messageFromWire(wire.Message.decode(b)))

export const encodeHardState = (h: HardState): Uint8Array =>
  wire.HardState.encode(hardStateToWire(h)).finish()
export const decodeHardState = (b: Uint8Array): HardState =>
  decodeWith('eraftpb.HardState', () => hardStateFromWire(wire.HardState.decode(b)))

export const encodeConfState = (c: ConfState): Uint8Array =>
  wire.ConfState.encode(confStateToWire(c)).finish()
export const decodeConfState = (b: Uint8Array): ConfState =>
  decodeWith('eraftpb.ConfState', () => confStateFromWire(wire.ConfState.decode(b)))

export const encodeSnapshotMetadata = (m: SnapshotMetadata): Uint8Array =>
  wire.SnapshotMetadata.encode(snapshotMetadataToWire(m)).finish()
export const decodeSnapshotMetadata = (b: Uint8Array): SnapshotMetadata =>
  decodeWith('eraftpb.SnapshotMetadata',
    () => snapshotMetadataFromWire(wire.SnapshotMetadata.decode(b)))

export const encodeSnapshot = (s: Snapshot): Uint8Array =>
  wire.Snapshot.encode(snapshotToWire(s)).finish()
export const decodeSnapshot = (b: Uint8Array): Snapshot =>
  decodeWith('eraftpb.Snapshot', () => snapshotFromWire(wire.Snapshot.decode(b)))
