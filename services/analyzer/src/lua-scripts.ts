import { readFileSync } from 'node:fs';
import type { Redis, Result } from 'ioredis';

/** [processed, duplicates, anomalies, anomaliesCpu, anomaliesRps, deadLettered, latestReplaced] */
export type CommitReply = [number, number, number, number, number, number, number];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    commitBatch(...keysThenArgs: (string | number)[]): Result<CommitReply, Context>;
  }
}

const SCRIPTS = [{ command: 'commitBatch', file: 'commit-batch-4.lua', numberOfKeys: 4 }] as const;

/** Loads the Lua scripts once per connection; ioredis then sends EVALSHA, falling back to EVAL. */
export function defineScripts(redis: Redis): void {
  for (const script of SCRIPTS) {
    const lua = readFileSync(new URL(`./lua/${script.file}`, import.meta.url), 'utf8');
    redis.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua });
  }
}
