/** The value every Changer operation returns. */
import type {ProgressMap, TrackerConfig} from '../tracker/index.js'

/**
 * A new configuration and the progress map that goes with it. Both are fresh objects: nothing
 * in them is shared with the tracker the change was computed from, except the immutable voter
 * configs. Invariant: checkInvariants(config, progress) holds.
 */
export interface ChangeResult {
  readonly config: TrackerConfig
  readonly progress: ProgressMap
}
