// What every scenario gets from the runner.
import type { Redis } from 'ioredis';
import type { RedisServerProcess } from '@pipeline/testkit';
import type { ClosedLoopTool } from '../load/closed-loop.js';
import type { BenchOptions } from '../options.js';
import type { Progress } from '../progress.js';
import type { Resources } from '../resources.js';
import type { HttpService } from '../environment.js';

export interface BenchContext {
  readonly options: BenchOptions;
  readonly progress: Progress;
  /** The benchmark's own redis-server, and a connection to it for setup and checks. */
  readonly redis: RedisServerProcess;
  readonly client: Redis;
  readonly load: ClosedLoopTool;
  readonly resources: Resources;
}

/** Registers a started service with the resources; the returned function stops it. */
export function own(ctx: BenchContext, service: HttpService): () => Promise<void> {
  return ctx.resources.add(service.name, () => service.stop());
}

/** Per-run measures of one server under closed-loop load. */
export interface ClosedLoopRun {
  readonly run: number;
  readonly okPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly failed: number;
  /** CPU ms of the server process, and of Redis, per 10,000 events accepted. */
  readonly cpuMsPer10k: number;
  readonly redisCpuMsPer10k: number;
  readonly maxRssBytes: number;
}
