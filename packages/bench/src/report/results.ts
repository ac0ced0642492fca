// The shape of bench/results/latest.json: how it was run, each scenario's runs and summaries,
// the footprint, and every target with its measured value.
import type { HostCheck } from '../host-check.js';
import type { BenchOptions } from '../options.js';
import type { Summary } from '../stats.js';
import type { DrainResult } from '../scenarios/drain.js';
import type { FreshnessResult } from '../scenarios/freshness.js';
import type { IngestBatchResult } from '../scenarios/ingest-batch.js';
import type { IngestSingleResult } from '../scenarios/ingest-single.js';

export interface BenchMeta {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly mode: 'quick' | 'full';
  readonly node: string;
  /** The Node version of the api, analyzers and reference servers (--node; else the same). */
  readonly servicesNode: string;
  readonly platform: string;
  readonly cpus: { count: number; model: string };
  readonly memoryGiB: number;
  /** 1-minute load average before the first and after the last scenario: other work on the machine. */
  readonly loadAverage: { before: number; after: number };
  /** How fast and how contended the host was (see host-check.ts). */
  readonly host: HostCheck;
  readonly redisVersion: string;
  readonly gitCommit: string | null;
  readonly gitDirty: boolean | null;
  readonly options: BenchOptions;
}

export interface ScenarioResults {
  'ingest-single'?: IngestSingleResult;
  'ingest-batch'?: IngestBatchResult;
  drain?: DrainResult;
  freshness?: FreshnessResult;
}

export interface Footprint {
  /** Peak VmRSS over every measured run of that service, bytes. */
  readonly maxRssBytes: { api: number; analyzer: number };
  /** CPU ms per 10,000 events (user + system, from /proc/<pid>/stat), median over runs. */
  readonly cpuMsPer10k: Record<string, Summary>;
}

export interface TargetCheck {
  readonly id: string;
  readonly label: string;
  /** Median over runs, with the spread. */
  readonly value: Summary;
  readonly unit: string;
  /** The median must be ≥ or ≤ this; null for a measure reported without a target. */
  readonly target: { readonly op: '≥' | '≤'; readonly value: number } | null;
  /** null: no target, or not measured in this run. */
  readonly met: boolean | null;
}

export interface BenchResults {
  readonly meta: BenchMeta;
  readonly scenarios: ScenarioResults;
  readonly footprint: Footprint;
  readonly targets: TargetCheck[];
}
