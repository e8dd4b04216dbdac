/**
 * PostgreSQL advisory locks bbwatch takes, as (space, key) pairs. Advisory locks belong to one
 * database, so deployments with databases of their own never contend.
 */
export const LOCK_SPACE = 0x62627761; // 'bbwa'
/** Held for as long as a process leads (session lock on the leader's own connection). */
export const LEADER_LOCK = 1;
/** Held while the schema is migrated (transaction lock). */
export const MIGRATION_LOCK = 2;
