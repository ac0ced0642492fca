// bench/results/<name>.md: the targets table first, then each scenario's runs, the footprint and
// how each number was measured.
import { SERVERS } from '../scenarios/ingest-single.js';
import { summarize } from '../stats.js';
import { mb, num, spread, targetText, valueText } from './format.js';
import type { HostCheck } from '../host-check.js';
import type { BenchResults } from './results.js';

const SERVER_LABELS = {
  api: 'api',
  ceiling: 'ceiling: node:http + XADD, auto-pipelined',
  coalesced: 'ceiling, writes coalesced as the api does',
  express: 'bare Express 5, no work',
} as const;

export function markdownReport(r: BenchResults, chartFile: string): string {
  const { meta, scenarios: s } = r;
  const out: string[] = [];
  const line = (text = '') => out.push(text);
  const table = (head: string[], rows: string[][]) => {
    line(`| ${head.join(' | ')} |`);
    line(`| ${head.map(() => '---').join(' | ')} |`);
    for (const row of rows) line(`| ${row.join(' | ')} |`);
    line();
  };

  line(`# Benchmark results (${meta.mode})`);
  line();
  line(
    `${meta.startedAt.slice(0, 16).replace('T', ' ')} UTC · commit ${meta.gitCommit?.slice(0, 10) ?? 'unknown'}${meta.gitDirty ? ' (uncommitted changes)' : ''} · ` +
      `Node ${meta.node}${meta.servicesNode !== meta.node ? ` (services: Node ${meta.servicesNode})` : ''} · Redis ${meta.redisVersion} · ${meta.cpus.count} × ${meta.cpus.model} · ${num(meta.memoryGiB)} GiB`,
  );
  line();
  line(hostText(meta.host));
  line();
  if (meta.mode === 'quick') {
    line('> **Quick mode**: short runs, a check that the harness works. Not representative.');
    line();
  }
  if (meta.loadAverage.before > 0.5) {
    line(`> **The machine was busy**: 1-minute load average ${num(meta.loadAverage.before)} before the benchmark started (${num(meta.loadAverage.after)} after). Other work competed for the CPUs; absolute numbers are noisy, ratios less so.`);
    line();
  }
  line(`![throughput and latency per scenario](${chartFile})`);
  line();

  line('## Targets');
  line();
  line('Medians over interleaved runs; ratios are taken within each run (servers measured back to back), then the median.');
  line();
  table(
    ['measure', 'median', 'min – max', 'runs', 'target', ''],
    r.targets.map((t) => [t.label, valueText(t.value.median, t.unit), spread(t.value), String(t.value.n), targetText(t.target, t.unit), t.met === null ? '' : t.met ? 'met' : '**not met**']),
  );

  const single = s['ingest-single'];
  if (single) {
    line(`## 1. Single-metric ingest`);
    line();
    line(`Closed loop: ${single.connections} connections, ${num(single.durationSeconds)} s per run (after a warm-up), ${single.tool}, body \`${single.body}\`. No analyzer runs; streams are emptied between runs.`);
    line();
    table(
      ['server', 'req/s (median)', 'min – max', 'p99 ms (median)', 'CPU ms / 10k events', 'peak RSS MB'],
      SERVERS.map((name) => {
        const runs = single.servers[name].runs;
        return [
          SERVER_LABELS[name],
          num(single.servers[name].okPerSecond.median),
          spread(single.servers[name].okPerSecond),
          num(single.servers[name].latencyP99Ms.median),
          num(summarize(runs.map((x) => x.cpuMsPer10k)).median),
          mb(Math.max(...runs.map((x) => x.maxRssBytes))),
        ];
      }),
    );
    table(
      ['run', 'api ÷ ceiling', 'api ÷ ceiling, coalesced writes', 'api ÷ express'],
      single.ratios.apiToCeiling.perRun.map((ratio, i) => [
        String(i + 1),
        `${num(ratio)}×`,
        `${num(single.ratios.apiToCoalesced.perRun[i]!)}×`,
        `${num(single.ratios.apiToExpress.perRun[i]!)}×`,
      ]),
    );
  }

  const batch = s['ingest-batch'];
  if (batch) {
    line(`## 2. Batch ingest`);
    line();
    line(`Arrays of ${batch.batchSize} metrics, closed loop with ${batch.connections} connections, ${num(batch.durationSeconds)} s per run, ${batch.tool}. Events/s counts 202 answers × ${batch.batchSize}; the stream's length after the run is beside it.`);
    line();
    table(
      ['run', 'events/s', 'stream entries/s', 'request p99 ms', 'api CPU ms / 10k', 'redis CPU ms / 10k'],
      batch.runs.map((x) => [String(x.run + 1), num(x.eventsPerSecond), num(x.streamEntriesPerSecond), num(x.requestP99Ms), num(x.cpuMsPer10k), num(x.redisCpuMsPer10k)]),
    );
  }

  const drain = s.drain;
  if (drain) {
    line(`## 3. Analyzer drain`);
    line();
    line(
      `${num(drain.events)} entries pre-filled once; each run drains a fresh server-side COPY of that stream; rate = (N − count at the first commit seen) ÷ (time count reached N − time of that first commit); the second-half rate is the same from the first count seen past halfway (a fresh analyzer process runs slower for its first seconds, so this half holds less of that warm-up). ` +
        `Exact: count = N, last_id = the last entry, avg_cpu and avg_rps within 1e-9 of a from-scratch mean of the last ${drain.windowSize} entries, no dead letters.`,
    );
    line();
    table(
      ['run', 'analyzers', 'events/s', 'second half events/s', 'seconds', 'exact', 'analyzer CPU ms / 10k', 'redis CPU ms / 10k', 'at most: redis thread / all cores', 'peak RSS MB', 'copy s'],
      drain.runs.map((x) => [
        String(x.run + 1),
        String(x.analyzers),
        num(x.eventsPerSecond) + (x.coarse ? ' (coarse)' : ''),
        x.secondHalfEventsPerSecond === null ? '–' : num(x.secondHalfEventsPerSecond),
        num(x.seconds),
        x.exact ? 'yes' : '**no**',
        num(x.cpuMsPer10k),
        num(x.redisCpuMsPer10k),
        `${x.bounds.redisThread === null ? '–' : num(x.bounds.redisThread)} / ${x.bounds.allCores === null ? '–' : num(x.bounds.allCores)}`,
        mb(x.maxRssBytes),
        num(x.copySeconds),
      ]),
    );
    line();
    line(
      `"At most" turns each run's CPU per event into the rates it allows: Redis's one thread busy all the time (1 s ÷ Redis CPU per event), and every core busy with the analyzers and Redis only (cores × 1 s ÷ their summed CPU per event). ` +
        'Redis time per drained event by command, 1 analyzer (INFO commandstats, µs; wall time inside Redis, so a preempted command counts its wait; XACK runs inside the commit script and is counted in EVALSHA too):',
    );
    line();
    table(
      ['command', ...drain.runs.filter((x) => x.analyzers === 1).map((x) => `run ${x.run + 1}`)],
      commandRows(drain.runs.filter((x) => x.analyzers === 1).map((x) => x.redisUsPerEvent)),
    );
  }

  const fresh = s.freshness;
  if (fresh) {
    line(`## 4. Freshness`);
    line();
    line(
      `${num(fresh.rate)} events/s for ${num(fresh.durationSeconds)} s (after ${num(fresh.warmupSeconds)} s left out) from a sender process; a poller process reads GET /stats in a tight loop. ` +
        `Latency = first /stats answer reflecting the event (last_id ≥ its id, or count ≥ its position) − arrival of its 202, on the clock both processes share (performance.timeOrigin + performance.now()). ` +
        `The null server (ids assigned and reflected at once) through the same harness is the floor.`,
    );
    line();
    table(
      ['run', 'target', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'events', 'never reflected', 'achieved/s', 'polls/s', 'poll round trip ms'],
      fresh.runs.map((x) => [String(x.run + 1), x.target, num(x.p50Ms), num(x.p90Ms), num(x.p99Ms), num(x.maxMs), num(x.events), String(x.unreflected), num(x.achievedRate), num(x.pollsPerSecond), num(x.medianPollMs)]),
    );
  }

  line('## 5. Footprint');
  line();
  line(`Peak RSS (VmRSS from /proc/<pid>/status, sampled every 200 ms during the measured runs): api ${mb(r.footprint.maxRssBytes.api)} MB, analyzer ${mb(r.footprint.maxRssBytes.analyzer)} MB.`);
  line();
  table(
    ['process, scenario', 'CPU ms per 10k events (median)', 'min – max'],
    Object.entries(r.footprint.cpuMsPer10k).map(([name, summary]) => [name, num(summary.median), spread(summary)]),
  );
  line('CPU is utime + stime from /proc/<pid>/stat over the measured window, divided by the events accepted (or drained) in it.');
  line();
  line(`Load average (1 min): ${num(meta.loadAverage.before)} before, ${num(meta.loadAverage.after)} after. Options: \`${JSON.stringify(meta.options)}\`.`);
  line();
  return out.join('\n');
}

/** The host check in words: how fast the host ran a fixed workload, and how much CPU it lost to others. */
function hostText(host: HostCheck): string {
  // Null without /proc/stat, or when its counters did not advance between the readings.
  const steal = host.steal === null ? 'steal not measured' : `${num(host.steal * 100, '%')} of CPU time stolen by the hypervisor during the run`;
  return (
    `Host: a fixed CPU workload (host-check.ts, lower is faster) took ${num(host.probeMs.before)} ms before the scenarios and ${num(host.probeMs.after)} ms after; ${steal}. ` +
    'Compare absolute figures between runs only where these agree.'
  );
}

/** One row per command seen in any run (largest first in the first run), µs per event per run. */
function commandRows(perRun: readonly Record<string, number>[]): string[][] {
  const names = [...new Set(perRun.flatMap((r) => Object.keys(r)))];
  return names.map((name) => [name.toUpperCase(), ...perRun.map((r) => (r[name] === undefined ? '–' : r[name]!.toFixed(2)))]);
}
