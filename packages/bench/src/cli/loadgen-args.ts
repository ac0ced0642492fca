// `pnpm loadgen` options.

export interface LoadgenOptions {
  readonly url: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly anomalies: number;
  readonly connections: number;
  readonly seed: number;
  /** Bearer tokens for POST /ingest and GET /stats, when the api requires them. */
  readonly ingestToken: string | undefined;
  readonly readToken: string | undefined;
}

export const LOADGEN_USAGE = `Usage: pnpm loadgen [--rate 2000] [--duration 60s] [--anomalies 0.01] [--url http://127.0.0.1:8080]
                    [--connections 32] [--seed 1] [--token T] [--read-token T]

Sends realistic single metrics (cpu and rps with a slow swing and Gaussian noise) to <url>/ingest at a
fixed rate, with a spike in a share --anomalies of them; reports the achieved rate, the latency
percentiles (from when each request was due, so stalls count), and the spikes injected beside the
anomalies_total delta that /stats reports. --token (or LOADGEN_INGEST_TOKEN) is sent as the bearer
token of POST /ingest, --read-token (or LOADGEN_READ_TOKEN; default: the ingest token) with GET /stats,
for an api started with INGEST_TOKENS / READ_TOKENS.
`;

/** "60s", "2m", "500ms", "1.5" (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`bad duration ${JSON.stringify(text)} (e.g. 60s, 2m, 500ms)`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return value * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
}

export function parseLoadgenArgs(argv: readonly string[]): LoadgenOptions | 'help' {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (arg === '-h' || arg === '--help') return 'help';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n\n${LOADGEN_USAGE}`);
    const eq = arg.indexOf('=');
    if (eq > 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      values.set(arg.slice(2), value);
    }
  }
  const take = (name: string, fallback: string) => {
    const value = values.get(name) ?? fallback;
    values.delete(name);
    return value;
  };
  const positive = (name: string, fallback: string, max = Infinity) => {
    const value = Number(take(name, fallback));
    if (!Number.isFinite(value) || value <= 0 || value > max) throw new Error(`--${name} must be a number in (0, ${max}]`);
    return value;
  };
  const url = take('url', 'http://127.0.0.1:8080').replace(/\/+$/, '');
  try {
    new URL(url);
  } catch {
    throw new Error(`--url: not a URL: ${url}`);
  }
  const anomalies = Number(take('anomalies', '0.01'));
  if (!(anomalies >= 0 && anomalies <= 1)) throw new Error('--anomalies must be a fraction from 0 to 1');
  const options: LoadgenOptions = {
    url,
    rate: positive('rate', '2000', 1e6),
    durationMs: parseDuration(take('duration', '60s')),
    anomalies,
    connections: Math.round(positive('connections', '32', 10_000)),
    seed: Math.round(positive('seed', '1')),
    ingestToken: values.get('token') ?? process.env['LOADGEN_INGEST_TOKEN'],
    readToken: values.get('read-token') ?? process.env['LOADGEN_READ_TOKEN'] ?? values.get('token') ?? process.env['LOADGEN_INGEST_TOKEN'],
  };
  values.delete('token');
  values.delete('read-token');
  if (values.size > 0) throw new Error(`unknown option --${[...values.keys()][0]}\n\n${LOADGEN_USAGE}`);
  return options;
}
