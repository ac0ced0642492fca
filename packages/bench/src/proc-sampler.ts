// CPU time and resident memory of processes, read from /proc (Linux): utime+stime from
// /proc/<pid>/stat, VmRSS from /proc/<pid>/status, sampled while a measurement runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What one process used during a sampling window. */
export interface ProcessUsage {
  /** CPU seconds (user + system) spent inside the window. */
  readonly cpuSeconds: number;
  /** Highest VmRSS seen (sampled every SAMPLE_MS and at both ends), in bytes. */
  readonly maxRssBytes: number;
}

const SAMPLE_MS = 200;

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of `pid` in seconds, or NaN when it cannot be read (gone, not Linux). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of `pid` in bytes, or NaN. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples named processes from start() to stop(). */
export class ProcessSampler {
  private readonly cpuAtStart = new Map<string, number>();
  private readonly maxRss = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: Readonly<Record<string, number>>) {}

  start(): this {
    for (const [name, pid] of Object.entries(this.pids)) {
      this.cpuAtStart.set(name, cpuSeconds(pid));
      this.maxRss.set(name, rssBytes(pid));
    }
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
    return this;
  }

  stop(): Record<string, ProcessUsage> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, ProcessUsage> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      out[name] = { cpuSeconds: cpuSeconds(pid) - (this.cpuAtStart.get(name) ?? Number.NaN), maxRssBytes: this.maxRss.get(name) ?? Number.NaN };
    }
    return out;
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const rss = rssBytes(pid);
      const seen = this.maxRss.get(name);
      if (Number.isFinite(rss) && !(seen! >= rss)) this.maxRss.set(name, rss);
    }
  }
}

/** CPU milliseconds per 10,000 events. */
export function cpuMsPer10k(usage: ProcessUsage | undefined, events: number): number {
  if (!usage || events <= 0) return Number.NaN;
  return (usage.cpuSeconds * 1000 * 10_000) / events;
}
