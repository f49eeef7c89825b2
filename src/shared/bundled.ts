/**
 * Whether this code runs from dist/bundle (scripts/bundle-dist.ts replaces this module there
 * with `BUNDLED = true`): then the Supervisor forks the bundled shard worker.
 */
export const BUNDLED: boolean = false;
