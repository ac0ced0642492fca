// The harness's pure parts: freshness matching, percentiles, hey's output, Redis's commandstats,
// the host check's reading of /proc/stat.
import { expect } from 'chai';
import { freshnessLatencies } from '../src/freshness/latency.js';
import type { PollerReport, SenderReport } from '../src/freshness/messages.js';
import { parseProcStat, stealShare } from '../src/host-check.js';
import { parseHey } from '../src/load/hey-load.js';
import { parseCommandstats, usPerEvent } from '../src/redis-commandstats.js';
import { percentile, rotate, summarize } from '../src/stats.js';

const sender = (ids: string[], acceptedAt: number[], dueAt = acceptedAt.map((t) => t - 1)): SenderReport => ({
  kind: 'sender',
  startedAt: 0,
  ids,
  acceptedAt,
  dueAt,
  sent: ids.length,
  failed: 0,
  skipped: 0,
  achievedRate: 0,
});
const poller = (rows: [number, number, string | null][]): PollerReport => ({
  kind: 'poller',
  at: rows.map((r) => r[0]),
  count: rows.map((r) => r[1]),
  lastId: rows.map((r) => r[2]),
  polls: rows.length,
  pollsPerSecond: 1,
  medianPollMs: 0,
  failedPolls: 0,
});

describe('bench harness units', () => {
  it('matches each 202 to the first /stats answer reflecting it, by id or by position', () => {
    const s = sender(['100-0', '100-1', '105-0'], [10, 11, 20]);
    const p = poller([
      [5, 7, '99-3'], // before the run: count 7
      [12, 8, '100-0'],
      [25, 10, '105-0'],
    ]);
    const byId = freshnessLatencies(s, p, { warmupMs: 0, useCount: false });
    expect([...byId.latenciesMs]).to.deep.equal([2, 14, 5]);
    expect(byId.unreflected).to.equal(0);
    // By position: the third answer (count 10 ≥ 7 + 3) reflects all three; the second (8) the first.
    const byCount = freshnessLatencies(s, p, { warmupMs: 0, useCount: true });
    expect([...byCount.latenciesMs]).to.deep.equal([2, 14, 5]);
  });

  it('clamps a reflection seen before the 202 arrived to 0, leaves out the warm-up and counts the unreflected', () => {
    const s = sender(['100-0', '101-0', '102-0'], [10, 30, 40], [0, 25, 35]);
    const p = poller([
      [5, 0, null],
      [8, 1, '100-0'],
      [31, 2, '101-0'],
    ]);
    const r = freshnessLatencies(s, p, { warmupMs: 20, useCount: false });
    expect(r.warmupEvents).to.equal(1);
    expect([...r.latenciesMs]).to.deep.equal([1]);
    expect(r.unreflected).to.equal(1);
  });

  it('summarizes runs and takes nearest-rank percentiles', () => {
    expect(summarize([3, 1, 2, Number.NaN])).to.deep.equal({ median: 2, min: 1, max: 3, n: 3 });
    expect(summarize([4, 1, 2, 3]).median).to.equal(2.5);
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).to.equal(99);
    expect(percentile(sorted, 50)).to.equal(50);
    expect(rotate(['a', 'b', 'c'], 4)).to.deep.equal(['b', 'c', 'a']);
  });

  it('reads hey output, falling back to Slowest/Average when few samples leave out p99', () => {
    const out = `Summary:\n  Total:\t2.0000 secs\n  Slowest:\t0.0500 secs\n  Fastest:\t0.0010 secs\n  Average:\t0.0040 secs\n\nLatency distribution:\n  10% in 0.0020 secs\n  50% in 0.0030 secs\n  90% in 0.0100 secs\n\nStatus code distribution:\n  [202]\t1000 responses\n  [503]\t10 responses\n`;
    const r = parseHey(out);
    expect(r.ok).to.equal(1000);
    expect(r.failed).to.equal(10);
    expect(r.okPerSecond).to.equal(500);
    expect(r.latencyP50Ms).to.be.closeTo(3, 1e-9);
    expect(r.latencyP99Ms).to.be.closeTo(50, 1e-9);
  });

  it("reads Redis's per-command time and spreads it over the events, largest first", () => {
    const info = [
      '# Commandstats',
      'cmdstat_xreadgroup:calls=1001,usec=1860622,usec_per_call=1858.76,rejected_calls=0,failed_calls=0',
      'cmdstat_hget:calls=1269,usec=1967,usec_per_call=1.55,rejected_calls=0,failed_calls=0',
      'cmdstat_evalsha:calls=999,usec=1168975,usec_per_call=1170.15,rejected_calls=0,failed_calls=0',
      'cmdstat_client|setname:calls=2,usec=4,usec_per_call=2.00,rejected_calls=0,failed_calls=0',
      '',
    ].join('\r\n');
    const usec = parseCommandstats(info);
    expect([...usec.keys()]).to.deep.equal(['xreadgroup', 'hget', 'evalsha', 'client|setname']);
    const perEvent = usPerEvent(usec, 1_000_000, 0.01);
    expect(Object.entries(perEvent)).to.deep.equal([
      ['xreadgroup', 1.860622],
      ['evalsha', 1.168975],
    ]);
  });

  it('reads the CPU times of /proc/stat and the share the hypervisor stole between two readings', () => {
    const stat = (user: number, idle: number, steal: number) =>
      [`cpu  ${user} 0 100 ${idle} 5 0 7 ${steal} 40 0`, `cpu0 ${user} 0 100 ${idle} 5 0 7 ${steal} 40 0`, 'intr 1 2 3', ''].join('\n');
    const before = parseProcStat(stat(1000, 5000, 12));
    // Guest time (40) is counted in user already: it is not added twice.
    expect(before).to.deep.equal({ total: 1000 + 100 + 5000 + 5 + 7 + 12, steal: 12 });
    const after = parseProcStat(stat(1600, 5300, 112));
    // 1000 jiffies passed, 100 of them stolen.
    expect(stealShare(before, after)).to.be.closeTo(0.1, 1e-12);
    expect(stealShare(after, before), 'readings out of order').to.equal(null);
    expect(stealShare(null, after)).to.equal(null);
    expect(parseProcStat('intr 1 2 3\n')).to.equal(null);
    expect(parseProcStat('cpu  1 2 3\n'), 'too few fields').to.equal(null);
  });
});
