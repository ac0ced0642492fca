// `pnpm bench` options: the full and quick presets, and the flags that override them.

export const SCENARIOS = ['ingest-single', 'ingest-batch', 'drain', 'freshness'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  /** Interleaved runs of the closed-loop ingest scenarios. */
  readonly runs: number;
  /** Interleaved runs of the drain (1 vs 2 analyzers) and freshness (api vs null) scenarios. */
  readonly drainRuns: number;
  readonly freshnessRuns: number;
  /** Seconds of measured load per closed-loop run, and of unmeasured load before it. */
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly batchConnections: number;
  readonly batchSize: number;
  readonly drainEvents: number;
  readonly freshnessRate: number;
  readonly freshnessSeconds: number;
  readonly freshnessWarmupSeconds: number;
  readonly loader: 'autocannon' | 'hey';
  /** The Node binary that runs the api, analyzers and reference servers (null: this one). */
  readonly node: string | null;
  readonly only: readonly ScenarioName[];
  /** Where the reports go, and their base name (latest / quick). */
  readonly outDir: string;
  readonly baseName: string;
}

const FULL = {
  runs: 5,
  drainRuns: 3,
  freshnessRuns: 3,
  durationSeconds: 10,
  warmupSeconds: 2,
  connections: 50,
  batchConnections: 8,
  batchSize: 1000,
  drainEvents: 1_000_000,
  freshnessRate: 2000,
  freshnessSeconds: 20,
  freshnessWarmupSeconds: 2,
};

const QUICK: typeof FULL = {
  ...FULL,
  runs: 2,
  drainRuns: 1,
  freshnessRuns: 1,
  durationSeconds: 2,
  warmupSeconds: 0.5,
  drainEvents: 100_000,
  freshnessSeconds: 3,
  freshnessWarmupSeconds: 0.5,
};

export const USAGE = `Usage: pnpm bench [--quick] [options]

Starts its own redis-server, the api, analyzers and the reference servers on 127.0.0.1, runs the
scenarios (${SCENARIOS.join(', ')}) and writes bench/results/latest.{json,md,svg}
(--quick: bench/results/quick.*, a check that takes under a minute; not representative).

  --quick                    short runs (2 closed-loop runs of 2 s, 100k-entry drain, 3 s freshness)
  --runs N                   interleaved runs per closed-loop scenario        (full: ${FULL.runs})
  --drain-runs N             interleaved 1-vs-2-analyzer drain runs           (full: ${FULL.drainRuns})
  --freshness-runs N         interleaved api-vs-null freshness runs           (full: ${FULL.freshnessRuns})
  --duration S               seconds of measured closed-loop load per run     (full: ${FULL.durationSeconds})
  --warmup S                 unmeasured seconds before each closed-loop run   (full: ${FULL.warmupSeconds})
  --connections N            connections for single-metric ingest             (full: ${FULL.connections})
  --batch-connections N      connections for batch ingest                     (full: ${FULL.batchConnections})
  --drain-events N           entries pre-filled for the drain                 (full: ${FULL.drainEvents})
  --freshness-rate N         events/s of the freshness load                   (full: ${FULL.freshnessRate})
  --freshness-duration S     seconds of freshness load per run                (full: ${FULL.freshnessSeconds})
  --freshness-warmup S       first seconds of it left out of the latencies    (full: ${FULL.freshnessWarmupSeconds})
  --loader autocannon|hey    closed-loop load generator (hey: /usr/bin/hey)   (default autocannon)
  --node PATH                the Node binary that runs the api, analyzers and reference servers
                             (default: the one running pnpm bench), e.g. the images' Node
  --only a,b                 run only these scenarios
  --out DIR                  write the reports here                           (default bench/results)
`;

/** Parses argv (without node and script); throws a readable error on a bad flag. */
export function parseBenchArgs(argv: readonly string[], defaultOutDir: string): BenchOptions | 'help' {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (arg === '-h' || arg === '--help') return 'help';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n\n${USAGE}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg === '--quick') flags.set('quick', true);
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      flags.set(arg.slice(2), value);
    }
  }
  const quick = flags.get('quick') === true;
  flags.delete('quick');
  const preset = quick ? QUICK : FULL;
  const take = (name: string) => {
    const value = flags.get(name);
    flags.delete(name);
    return typeof value === 'string' ? value : undefined;
  };
  const num = (name: string, fallback: number, min: number, integer = false) => {
    const text = take(name);
    if (text === undefined) return fallback;
    const value = Number(text.replace(/s$/, ''));
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min} (got ${text})`);
    }
    return value;
  };
  const loader = take('loader') ?? 'autocannon';
  if (loader !== 'autocannon' && loader !== 'hey') throw new Error(`--loader must be autocannon or hey (got ${loader})`);
  const onlyText = take('only');
  const only = onlyText === undefined ? [...SCENARIOS] : onlyText.split(',').map((s) => s.trim());
  for (const name of only) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario ${name} (${SCENARIOS.join(', ')})`);
  }
  const options: BenchOptions = {
    quick,
    runs: num('runs', preset.runs, 1, true),
    drainRuns: num('drain-runs', preset.drainRuns, 1, true),
    freshnessRuns: num('freshness-runs', preset.freshnessRuns, 1, true),
    durationSeconds: num('duration', preset.durationSeconds, 0.1),
    warmupSeconds: num('warmup', preset.warmupSeconds, 0),
    connections: num('connections', preset.connections, 1, true),
    batchConnections: num('batch-connections', preset.batchConnections, 1, true),
    batchSize: preset.batchSize,
    drainEvents: num('drain-events', preset.drainEvents, 1000, true),
    freshnessRate: num('freshness-rate', preset.freshnessRate, 1),
    freshnessSeconds: num('freshness-duration', preset.freshnessSeconds, 0.1),
    freshnessWarmupSeconds: num('freshness-warmup', preset.freshnessWarmupSeconds, 0),
    loader,
    node: take('node') ?? null,
    only: only as ScenarioName[],
    outDir: take('out') ?? defaultOutDir,
    baseName: quick ? 'quick' : 'latest',
  };
  if (flags.size > 0) throw new Error(`unknown option --${[...flags.keys()][0]}\n\n${USAGE}`);
  return options;
}
