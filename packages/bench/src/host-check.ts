// How fast and how contended the host was during a run. The same commit drained 164k events/s one
// evening and 304k the next morning on a machine of the same kind: a fixed CPU workload timed
// before and after the scenarios, and the share of CPU time the hypervisor took (steal), let a
// reader tell a slow host from a slow change.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Jiffies of all CPUs together, from the `cpu` line of /proc/stat. */
export interface CpuTimes {
  readonly total: number;
  readonly steal: number;
}

/** The aggregate `cpu` line of a /proc/stat text; null when it is missing or unreadable. */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is in user already.
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
  if (fields.length < 8 || !fields.every(Number.isFinite)) return null;
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7]! };
}

/** This machine's CPU times now; null where there is no /proc/stat. */
export function readCpuTimes(): CpuTimes | null {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** The share (0–1) of CPU time between two readings that the hypervisor gave to other guests. */
export function stealShare(before: CpuTimes | null, after: CpuTimes | null): number | null {
  if (!before || !after || after.total <= before.total) return null;
  return (after.steal - before.steal) / (after.total - before.total);
}

const PROBE_REPS = 7;
const PROBE_METRICS = 20_000;

/**
 * Milliseconds one fixed single-threaded workload takes, the median of 7: JSON text of 20,000
 * metrics parsed and its numbers summed, the kind of work (allocation, parsing, GC) the services
 * do. Lower is a faster or quieter host; only comparable between runs of the same Node version.
 */
export function cpuProbeMs(): number {
  const text = JSON.stringify(
    Array.from({ length: PROBE_METRICS }, (_, i) => ({ timestamp: 1764000000 + i / 1000, cpu: (i % 997) / 10, rps: 1000 + (i % 101) })),
  );
  const times: number[] = [];
  let checksum = 0;
  for (let rep = 0; rep < PROBE_REPS; rep++) {
    const start = performance.now();
    for (let k = 0; k < 10; k++) {
      for (const m of JSON.parse(text) as { cpu: number; rps: number }[]) checksum += m.cpu + m.rps;
    }
    times.push(performance.now() - start);
  }
  // Keeps the work from being optimized away.
  if (!Number.isFinite(checksum)) throw new Error('probe checksum is not finite');
  return times.sort((a, b) => a - b)[PROBE_REPS >> 1]!;
}

/** Read when the run starts; finishHostCheck completes it. */
export interface HostCheckStart {
  readonly probeMs: number;
  readonly cpuTimes: CpuTimes | null;
}

export interface HostCheck {
  /** cpuProbeMs before the first scenario and after the last. */
  readonly probeMs: { readonly before: number; readonly after: number };
  /** The share of CPU time stolen by the hypervisor from the first probe's end to the second's; null off Linux. */
  readonly steal: number | null;
}

export function startHostCheck(): HostCheckStart {
  return { probeMs: cpuProbeMs(), cpuTimes: readCpuTimes() };
}

export function finishHostCheck(start: HostCheckStart): HostCheck {
  const after = cpuProbeMs();
  return { probeMs: { before: start.probeMs, after }, steal: stealShare(start.cpuTimes, readCpuTimes()) };
}
