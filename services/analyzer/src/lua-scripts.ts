import { defineLuaScripts, type Redis } from '@pipeline/redis';
import type { Result } from 'ioredis';

/** [processed, duplicates, anomalies, anomaliesCpu, anomaliesRps, deadLettered, latestReplaced] */
export type CommitReply = [number, number, number, number, number, number, number];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    commitBatch(...keysThenArgs: (string | number)[]): Result<CommitReply, Context>;
  }
}

/** Loads the analyzer's Lua scripts once per connection. */
export function defineScripts(redis: Redis): void {
  defineLuaScripts(redis, [
    { command: 'commitBatch', file: new URL('./lua/commit-batch-4.lua', import.meta.url), numberOfKeys: 4 },
  ]);
}
