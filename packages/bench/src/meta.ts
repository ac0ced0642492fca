// How and where a benchmark ran: versions, machine, load, commit.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { HostCheck } from './host-check.js';
import type { BenchOptions } from './options.js';
import type { BenchMeta } from './report/results.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The commit being measured, and whether the working tree differed from it (the reports left out). */
export interface SourceState {
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
}

/**
 * Read when the benchmark starts, right after the build: the code measured is what was there
 * then. The reports under bench/results do not count as changes: a run rewrites them.
 */
export function sourceState(): SourceState {
  const status = git(['status', '--porcelain', '--', '.', ':(exclude)bench/results']);
  return { gitCommit: git(['rev-parse', 'HEAD']), gitDirty: status === null ? null : status.length > 0 };
}

export async function collectMeta(options: BenchOptions, client: Redis, startedAt: Date, loadBefore: number, source: SourceState, servicesNode: string, host: HostCheck): Promise<BenchMeta> {
  const info = await client.info('server');
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    node: process.versions.node,
    servicesNode: servicesNode.replace(/^v/, ''),
    platform: `${process.platform} ${process.arch}`,
    cpus: { count: cpus().length, model: cpus()[0]?.model.trim() ?? 'unknown' },
    memoryGiB: totalmem() / 1024 ** 3,
    loadAverage: { before: loadBefore, after: loadavg()[0]! },
    host,
    redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    ...source,
    options,
  };
}
