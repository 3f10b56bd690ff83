/** The lock rules' defaults (src/channel/updates.ts), apart so that the node's settings can name them without loading the channel code. */

/** Lightning's cap on pending HTLCs per channel direction, here per channel (against jamming). */
export const DEFAULT_MAX_PENDING_LOCKS = 483;
/** One hour: time to see a secret, send `registerSecret` and have it mined with margin. */
export const DEFAULT_MIN_LOCK_WINDOW = 3600n;
/** One week. */
export const DEFAULT_MAX_LOCK_DURATION = 7n * 24n * 3600n;
