import { defineLuaScripts, type Redis } from '@pipeline/redis';
import type { Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    appendBatch(...keysThenArgs: (string | number)[]): Result<string[], Context>;
    appendIdempotent(...keysThenArgs: (string | number)[]): Result<[string, string?], Context>;
  }
}

/** Loads the api's Lua scripts once per connection. */
export function defineScripts(redis: Redis): void {
  defineLuaScripts(redis, [
    { command: 'appendBatch', file: new URL('./lua/append-batch-2.lua', import.meta.url), numberOfKeys: 1 },
    { command: 'appendIdempotent', file: new URL('./lua/append-idempotent-1.lua', import.meta.url), numberOfKeys: 2 },
  ]);
}
