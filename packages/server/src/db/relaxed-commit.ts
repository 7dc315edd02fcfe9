/**
 * A select-list or RETURNING item that makes the statement's own transaction commit without
 * waiting for its WAL to reach the disk (`synchronous_commit = off`, set with `is_local`, so it
 * ends with that transaction and a pooled session keeps its own setting). Only for autocommit
 * statements whose loss in a crash is harmless: single-use markers whose consumption matters only
 * when something lasting follows, because every later commit that does wait flushes the WAL up to
 * itself, and so this earlier commit with it. Never inside a transaction with other changes: the
 * whole transaction would commit relaxed.
 */
export const RELAXED_COMMIT = "set_config('synchronous_commit', 'off', true)";
