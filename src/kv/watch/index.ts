/** The watch machinery of the key/value store: hub, watchers and the key index they use. */
export {type ChunkLimits, type WatchSource} from './catchup.js'
export {WatchHub, type WatchHubOptions, type WatchHubStats} from './hub.js'
export {IntervalTree, type UpperBound} from './interval_tree.js'
export {rangeHas, WatcherGroup, type WatchKeyRange, watchKeyRange} from './matcher.js'
export {eventBytes, type WatchItem, Watcher, type WatcherState, type WatchSpec} from './watcher.js'
