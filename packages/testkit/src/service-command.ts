import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// A service's package.json `start` script is the one place its Node flags are written down:
// `node [--flag …] dist/main.js`. The container images run exactly it (test/deploy checks their
// CMD), and `pnpm start` and `pnpm bench` start the built services with the same flags.
const START = /^node((?: --[a-z0-9-]+(?:=[\w.]+)?)*) dist\/main\.js$/;

/** The Node flags of the service in `serviceDir` (e.g. ['--max-semi-space-size=4']). */
export function serviceNodeFlags(serviceDir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(serviceDir, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = manifest.scripts?.start ?? '';
  const match = START.exec(start);
  if (!match) throw new Error(`${serviceDir}/package.json: scripts.start must read "node [--flag …] dist/main.js", got ${JSON.stringify(start)}`);
  return match[1]!.split(' ').filter((flag) => flag !== '');
}
