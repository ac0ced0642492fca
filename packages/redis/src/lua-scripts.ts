import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** A Lua script in its own file, registered as a command named `command`. */
export interface LuaScript {
  readonly command: string;
  /** The `.lua` file, resolved against the calling module (`new URL('./lua/x.lua', import.meta.url)`). */
  readonly file: URL;
  readonly numberOfKeys: number;
}

/** Reads each script once and defines it on the connection; ioredis then sends EVALSHA, falling back to EVAL. */
export function defineLuaScripts(redis: Redis, scripts: readonly LuaScript[]): void {
  for (const script of scripts) {
    redis.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: readFileSync(script.file, 'utf8') });
  }
}
