// The benchmark harness works end to end: `pnpm bench --quick` with tiny durations writes results
// with every scenario and positive numbers. No thresholds: CI machines vary; the numbers are for
// the report, not for a verdict here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { serviceNodeFlags } from '@pipeline/testkit';

const BENCH_CLI = fileURLToPath(new URL('../dist/cli/bench.js', import.meta.url));
const ANALYZER_FLAGS = serviceNodeFlags(fileURLToPath(new URL('../../../services/analyzer', import.meta.url))).join(' ');

const TINY = [
  '--quick',
  '--runs', '1',
  '--duration', '1',
  '--warmup', '0',
  '--connections', '8',
  '--batch-connections', '2',
  '--drain-runs', '1',
  '--drain-events', '5000',
  '--freshness-runs', '1',
  '--freshness-duration', '1',
  '--freshness-warmup', '0.2',
  '--freshness-rate', '500',
];

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const positive = (value: unknown, what: string) => {
  expect(value, what).to.be.a('number');
  expect(value as number, what).to.be.greaterThan(0);
};
const nonNegative = (value: unknown, what: string) => {
  expect(value, what).to.be.a('number');
  expect(value as number, what).to.be.at.least(0);
};

describe('pnpm bench --quick (the harness, no thresholds)', function () {
  this.timeout(180_000);
  let out: string;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'bench-quick-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('runs every scenario and writes JSON, Markdown and SVG with positive numbers', async () => {
    const { code, output } = await run([...TINY, '--out', out]);
    expect(code, output).to.equal(0);
    for (const ext of ['json', 'md', 'svg']) expect(existsSync(join(out, `quick.${ext}`)), `quick.${ext}`).to.equal(true);

    const results = JSON.parse(await readFile(join(out, 'quick.json'), 'utf8'));
    const s = results.scenarios;
    expect(Object.keys(s)).to.have.members(['ingest-single', 'ingest-batch', 'drain', 'freshness']);

    for (const server of ['api', 'ceiling', 'coalesced', 'express']) {
      positive(s['ingest-single'].servers[server].okPerSecond.median, `ingest-single ${server} req/s`);
      positive(s['ingest-single'].servers[server].latencyP99Ms.median, `ingest-single ${server} p99`);
    }
    positive(s['ingest-single'].ratios.apiToCeiling.summary.median, 'api ÷ ceiling');
    positive(s['ingest-single'].ratios.apiToCoalesced.summary.median, 'api ÷ coalesced ceiling');
    positive(s['ingest-single'].ratios.apiToExpress.summary.median, 'api ÷ express');

    positive(s['ingest-batch'].eventsPerSecond.median, 'batch events/s');

    positive(s.drain.oneAnalyzer.median, 'drain, 1 analyzer');
    positive(s.drain.twoAnalyzers.median, 'drain, 2 analyzers');
    positive(s.drain.twoToOne.summary.median, 'drain 2 ÷ 1');
    for (const r of s.drain.runs) {
      positive(r.exactness.count, `drain run ${r.run} count`);
      // Null only when one commit carried the drain past halfway and to the end.
      if (r.secondHalfEventsPerSecond !== null) positive(r.secondHalfEventsPerSecond, `drain run ${r.run} second half`);
      // The analyzer's reads and commits are what Redis spent its time on.
      expect(Object.keys(r.redisUsPerEvent), `drain run ${r.run} redis commands`).to.include.members(['xreadgroup', 'evalsha']);
      // A drain this short may pass between two ticks of the CPU clock: then there is no bound.
      if (r.redisCpuMsPer10k > 0) positive(r.bounds.redisThread, `drain run ${r.run} redis-thread bound`);
      if (r.redisCpuMsPer10k + r.cpuMsPer10k > 0) positive(r.bounds.allCores, `drain run ${r.run} all-cores bound`);
    }

    for (const target of ['api', 'null']) {
      const runs = s.freshness.runs.filter((r: { target: string }) => r.target === target);
      expect(runs, `freshness ${target} runs`).to.have.length(1);
      positive(runs[0].events, `freshness ${target} events`);
      nonNegative(runs[0].p50Ms, `freshness ${target} p50`);
      nonNegative(runs[0].p99Ms, `freshness ${target} p99`);
      positive(runs[0].pollsPerSecond, `freshness ${target} polls/s`);
    }

    positive(results.footprint.maxRssBytes.api, 'api RSS');
    positive(results.footprint.maxRssBytes.analyzer, 'analyzer RSS');
    expect(results.targets.length, 'targets').to.be.greaterThan(5);
    positive(results.meta.host.probeMs.before, 'host probe before');
    positive(results.meta.host.probeMs.after, 'host probe after');
    expect(results.meta.host.steal, 'steal share').to.be.within(0, 1);
    expect(await readFile(join(out, 'quick.md'), 'utf8')).to.include('Host: a fixed CPU workload');
  });

  it('runs the services with the Node binary --node names, and reports its version', async () => {
    // A "Node binary" that notes each command line, then runs this process's Node.
    const calls = join(out, 'node-calls.txt');
    const wrapper = join(out, 'node-wrapper.sh');
    await writeFile(wrapper, `#!/bin/sh\necho "$@" >> '${calls}'\nexec '${process.execPath}' "$@"\n`);
    await chmod(wrapper, 0o755);
    const { code, output } = await run([...TINY, '--only', 'drain', '--node', wrapper, '--out', join(out, 'node')]);
    expect(code, output).to.equal(0);
    const lines = (await readFile(calls, 'utf8')).split('\n');
    expect(lines[0], 'asked for its version first').to.equal('--version');
    expect(lines.filter((l) => l.endsWith('services/analyzer/dist/main.js')), 'the analyzers, flags and all').to.have.length(3).and.satisfy((ls: string[]) => ls.every((l) => l.startsWith(`${ANALYZER_FLAGS} `)));
    const results = JSON.parse(await readFile(join(out, 'node', 'quick.json'), 'utf8'));
    expect(results.meta.servicesNode).to.equal(process.versions.node);
    expect(results.meta.options.node).to.equal(wrapper);

    const bad = await run([...TINY, '--only', 'drain', '--node', join(out, 'no-such-node'), '--out', join(out, 'bad')]);
    expect(bad.code).to.not.equal(0);
    expect(bad.output).to.include('no-such-node: it does not run');
  });
});
