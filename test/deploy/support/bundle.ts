// Reads the images' Dockerfiles and reproduces, without Docker, what their runtime stage holds:
// the `pnpm deploy` bundle of one service, moved out of the workspace and run on its own.
import { execFile, spawn } from 'node:child_process';
import { cpSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { OutputBuffer, waitFor, type ExitInfo } from '@pipeline/testkit';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// ---- Dockerfiles, parsed by dockerfile-ast (the parser dockerfile-utils validates with) ----

/** The parts of dockerfile-ast's instruction classes these tests use. */
export interface Instruction {
  getKeyword(): string;
  getArgumentsContent(): string | null;
  getArguments(): { getValue(): string }[];
  getRange(): { start: { line: number } };
  getFlags?(): { getName(): string; getValue(): string | null }[];
  getJSONStrings?(): { getJSONValue(): string }[];
  getBuildStage?(): string | null;
  getImage?(): string | null;
  getFromFlag?(): { getValue(): string | null } | null;
}

export interface Stage {
  /** The `AS` name, or null. */
  name: string | null;
  image: string;
  /** The stage's instructions after its FROM. */
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  text: string;
  stages: Stage[];
  /** ARGs before the first FROM, as name → default. */
  globalArgs: Map<string, string>;
}

// dockerfile-ast is a dependency of dockerfile-utils, not of the workspace root: load that copy.
const requireFromUtils = createRequire(createRequire(import.meta.url).resolve('dockerfile-utils'));
const { DockerfileParser } = requireFromUtils('dockerfile-ast') as {
  DockerfileParser: { parse(text: string): { getInstructions(): Instruction[] } };
};

export function parseDockerfile(file: string): ParsedDockerfile {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const stages: Stage[] = [];
  const globalArgs = new Map<string, string>();
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      stages.push({ name: instruction.getBuildStage?.() ?? null, image: instruction.getImage?.() ?? '', instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    } else if (keyword === 'ARG') {
      const [name, value = ''] = (instruction.getArgumentsContent() ?? '').split('=');
      globalArgs.set(name!, value);
    }
  }
  return { text, stages, globalArgs };
}

/** The instructions of a stage with this keyword. */
export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** An exec-form instruction's argv (`CMD ["node", "dist/main.js"]`), or the HEALTHCHECK's `CMD [...]`. */
export function execForm(instruction: Instruction): string[] {
  if (instruction.getJSONStrings) return instruction.getJSONStrings().map((s) => s.getJSONValue());
  const content = instruction.getArgumentsContent() ?? '';
  const json = /\bCMD\s+(\[.*\])\s*$/s.exec(content)?.[1];
  if (json === undefined) throw new Error(`not an exec-form command: ${content}`);
  return JSON.parse(json) as string[];
}

/**
 * The `pnpm … deploy … /out` command of the build stage, as argv with the target directory
 * replaced: the very command the image build runs, so the bundle tested here is the image's.
 */
export function deployCommand(dockerfile: ParsedDockerfile, target: string): string[] {
  const runs = dockerfile.stages.flatMap((s) => instructionsOf(s, 'RUN')).map((r) => (r.getArgumentsContent() ?? '').trim());
  const deploys = runs.filter((cmd) => /^pnpm\b.*\sdeploy\s/.test(cmd));
  if (deploys.length !== 1) throw new Error(`expected one \`pnpm … deploy\` RUN, found ${deploys.length}`);
  const command = deploys[0]!;
  if (/[;&|<>`$\\'"]/.test(command)) throw new Error(`the deploy RUN must be one plain command to be reproducible here: ${command}`);
  const argv = command.split(/\s+/);
  if (argv.at(-1) !== '/out') throw new Error(`the deploy RUN must end with the target /out: ${command}`);
  return [...argv.slice(0, -1), target];
}

// ---- bundles ----

const run = promisify(execFile);

/** Runs a command in the workspace root; rejects with its output on failure. */
export async function runInWorkspace(argv: string[]): Promise<string> {
  const [file, ...args] = argv;
  try {
    const { stdout, stderr } = await run(file!, args, { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CI: 'true' } });
    return stdout + stderr;
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${argv.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * Moves a bundle as `COPY --from=build /out /app` does: copies it, links as links, and deletes
 * the original, so anything still pointing at where it was built now points at nothing.
 */
export function relocate(from: string, to: string): void {
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  rmSync(from, { recursive: true, force: true });
}

/** Every symlink under `dir` whose target lies outside `dir`, as `link -> target`. */
export function linksLeaving(dir: string): string[] {
  const root = resolve(dir);
  const leaving: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isSymbolicLink()) {
        const target = resolve(dirname(path), readlinkSync(path));
        if (target !== root && !target.startsWith(root + sep)) leaving.push(`${relative(root, path)} -> ${target}`);
      } else if (entry.isDirectory()) {
        walk(path);
      }
    }
  };
  walk(root);
  return leaving;
}

/** `node_modules` folders in the ancestors of `dir`, which Node would search for anything missing from it. */
export function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let current = dirname(resolve(dir)); ; current = dirname(current)) {
    const candidate = join(current, 'node_modules');
    try {
      lstatSync(candidate);
      found.push(candidate);
    } catch {
      // absent, as it should be
    }
    if (dirname(current) === current) return found;
  }
}

/**
 * The packages in a bundle's virtual store as `name@version` (`@scope+name@1.2.3(peer)` →
 * `@scope/name@1.2.3`), leaving out the workspace's own `file:` packages.
 */
export function storePackages(bundle: string): string[] {
  return readdirSync(join(bundle, 'node_modules/.pnpm'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'node_modules' && !e.name.includes('@file+'))
    .map((e) => {
      const m = /^(?:@([^+]+)\+)?([^@]+)@([^_(]+)/.exec(e.name);
      if (!m) throw new Error(`unexpected virtual store entry ${e.name}`);
      return `${m[1] === undefined ? '' : `@${m[1]}/`}${m[2]}@${m[3]}`;
    });
}

// ---- running a bundle as the image does: `node dist/main.js` in /app ----

export interface BundleProcess {
  readonly name: string;
  readonly exited: Promise<ExitInfo>;
  output(): string;
  /** SIGTERM (what tini passes on from `docker stop`), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<ExitInfo>;
}

const running = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `<node> dist/main.js` with `cwd` = the bundle and exactly `env` (plus PATH): no
 * NODE_OPTIONS, NODE_PATH or HOME from the test process, so no loader and no folder outside
 * the bundle helps it. Resolves once `readyUrl` answers 200.
 */
export async function startBundle(opts: { dir: string; name: string; env: Record<string, string>; readyUrl: string; node?: string; nodeFlags?: readonly string[] }): Promise<BundleProcess> {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...opts.env };
  const child = spawn(opts.node ?? process.execPath, [...(opts.nodeFlags ?? []), 'dist/main.js'], { cwd: opts.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const buffer = new OutputBuffer(200);
  child.stdout.on('data', (chunk: Buffer) => buffer.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => buffer.write(chunk, '[stderr] '));
  let exit: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((done) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      done((exit = { code, signal }));
    });
    child.once('error', (err) => {
      buffer.write(`[spawn] ${err.message}\n`);
      done((exit = { code: null, signal: null }));
    });
  });
  const stop = async (timeoutMs = 10_000): Promise<ExitInfo> => {
    if (exit) return exit;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await waitFor(
      async () => {
        if (exit) throw new Error(`exited (code ${exit.code}, signal ${exit.signal})`);
        const res = await fetch(opts.readyUrl, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        return res.status === 200;
      },
      { timeoutMs: 15_000, message: `${opts.name}: ${opts.readyUrl} did not answer 200` },
    );
  } catch (err) {
    await stop(2000);
    throw new Error(`${(err as Error).message}\n--- output of ${opts.name} ---\n${buffer.text()}`);
  }
  return { name: opts.name, exited, output: () => buffer.text(), stop };
}

/** Runs an exec-form command (a HEALTHCHECK's) with `node` replaced by `nodeBin`; resolves to its exit code. */
export function runExecForm(argv: string[], nodeBin: string, env: Record<string, string>): Promise<number | null> {
  const [file, ...args] = argv;
  const child = spawn(file === 'node' ? nodeBin : file!, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
  return new Promise((done) => {
    child.once('exit', (code) => done(code));
    child.once('error', () => done(null));
  });
}
