#!/usr/bin/env node
// `pnpm bench [--quick] [options]`: runs the benchmark and writes bench/results/<latest|quick>.*
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE } from '../options.js';
import { Progress } from '../progress.js';
import { targetText, valueText } from '../report/format.js';
import { writeReports } from '../report/write-reports.js';
import { runBench } from '../runner.js';

const RESULTS_DIR = fileURLToPath(new URL('../../../../bench/results', import.meta.url));

async function main(): Promise<number> {
  const options = parseBenchArgs(process.argv.slice(2), RESULTS_DIR);
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const progress = new Progress();
  progress.say(`bench (${options.quick ? 'quick' : 'full'}): ${options.only.join(', ')}`);
  const results = await runBench(options, progress);
  const files = await writeReports(results, options.outDir, options.baseName);
  process.stdout.write('\n');
  for (const t of results.targets) {
    const verdict = t.met === null ? '' : t.met ? '  met' : '  NOT MET';
    process.stdout.write(`  ${t.label}: ${valueText(t.value.median, t.unit)}${t.target ? ` (target ${targetText(t.target, t.unit)})` : ''}${verdict}\n`);
  }
  process.stdout.write(`\nwrote ${files.join(', ')}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
