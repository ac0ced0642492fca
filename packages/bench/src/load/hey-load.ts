// Closed-loop POST load with `hey` (a separate Go process), when it is installed.
import { spawn, spawnSync } from 'node:child_process';
import type { ClosedLoopLoad, ClosedLoopResult } from './closed-loop.js';

export const HEY = '/usr/bin/hey';

export function heyAvailable(): boolean {
  return spawnSync(HEY, ['-h'], { stdio: 'ignore' }).error === undefined;
}

export function heyLoad(load: ClosedLoopLoad): Promise<ClosedLoopResult> {
  const args = ['-z', `${load.durationSeconds}s`, '-c', String(load.connections), '-m', 'POST', '-T', 'application/json', '-d', load.body, load.url];
  return new Promise((resolve, reject) => {
    const child = spawn(HEY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`hey exited with ${code}: ${out.slice(-500)}`));
      try {
        resolve(parseHey(out));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Reads hey's text summary. */
export function parseHey(out: string): ClosedLoopResult {
  const number = (re: RegExp, fallback?: RegExp): number => {
    const match = re.exec(out);
    if (match) return Number(match[1]);
    if (fallback) return number(fallback);
    throw new Error(`hey output has no ${re}: ${out.slice(0, 500)}`);
  };
  const seconds = number(/Total:\s+([\d.]+) secs/);
  let ok = 0;
  let failed = 0;
  for (const match of out.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) {
    if (match[1]!.startsWith('2')) ok += Number(match[2]);
    else failed += Number(match[2]);
  }
  for (const match of out.matchAll(/\[(\d+)\]\s+Get|\[(\d+)\]\s+Post/g)) failed += Number(match[1] ?? match[2]);
  return {
    okPerSecond: ok / seconds,
    ok,
    failed,
    // hey leaves out the percentiles its few samples do not reach (p99 of 13 requests).
    latencyP50Ms: number(/ 50% in ([\d.]+) secs/, /Average:\s+([\d.]+) secs/) * 1000,
    latencyP99Ms: number(/ 99% in ([\d.]+) secs/, /Slowest:\s+([\d.]+) secs/) * 1000,
    seconds,
    tool: 'hey',
  };
}
