// The container images, proven without a Docker engine: the Dockerfiles are parsed and checked,
// and the bundle their runtime stage copies is made with the same `pnpm deploy` command, moved out
// of the workspace and run alone against a real Redis. Set IMAGE_TEST_NODE to a node binary to run
// the bundles on another Node.js than the test's (e.g. the image's major).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { validate } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { freePort, getJson, postJson, serviceNodeFlags, startTestRedis, waitFor, type TestRedis } from '@pipeline/testkit';
import { analyzerEnv } from '../../services/analyzer/src/config.js';
import { apiEnv } from '../../services/api/src/config.js';
import {
  ROOT,
  deployCommand,
  execForm,
  instructionsOf,
  linksLeaving,
  nodeModulesAbove,
  parseDockerfile,
  relocate,
  runExecForm,
  runInWorkspace,
  startBundle,
  storePackages,
  type BundleProcess,
  type ParsedDockerfile,
  type Stage,
} from './support/bundle.js';

const NODE = process.env['IMAGE_TEST_NODE'] || process.execPath;

const images = [
  { service: 'api', dockerfile: 'Dockerfile.api', portVar: 'PORT', port: apiEnv.properties.PORT.default },
  { service: 'analyzer', dockerfile: 'Dockerfile.analyzer', portVar: 'METRICS_PORT', port: analyzerEnv.properties.METRICS_PORT.default },
] as const;

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const finalStage = (df: ParsedDockerfile) => df.stages.at(-1)!;
/** `<dir>/<name>/package.json` of every workspace package (pnpm-workspace.yaml lists `<dir>/*` globs). */
const workspaceManifests = (): string[] => {
  const { packages } = parseYaml(readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8')) as { packages: string[] };
  return packages
    .map((glob) => glob.replace(/\/\*$/, ''))
    .flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => `${dir}/${name}/package.json`))
    .filter((manifest) => existsSync(join(ROOT, manifest)));
};

for (const image of images) {
  describe(`${image.dockerfile}`, () => {
    let df: ParsedDockerfile;
    let final: Stage;
    before(() => {
      df = parseDockerfile(image.dockerfile);
      final = finalStage(df);
    });

    it('parses, and dockerfile-utils reports nothing', () => {
      const problems = validate(df.text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
      expect(problems).to.deep.equal([]);
      expect(df.stages.map((s) => s.name)).to.include('build');
      expect(final.name, 'the runtime stage comes last').to.not.equal('build');
    });

    it('installs the pnpm of packageManager with the lockfile frozen and the store in a cache mount, manifests first', () => {
      const build = df.stages.find((s) => s.name === 'build')!;
      const runs = instructionsOf(build, 'RUN').map((r) => r.getArgumentsContent() ?? '');
      const pinned = (readJson(join(ROOT, 'package.json')).packageManager as string).replace(/\+.*$/, '');
      expect(runs.some((r) => r.includes(`npm install --global ${pinned}`)), `a RUN npm install --global ${pinned}`).to.equal(true);

      const install = build.instructions.findIndex((i) => i.getKeyword() === 'RUN' && /\bpnpm install\b/.test(i.getArgumentsContent() ?? ''));
      expect(install, 'a RUN pnpm install').to.be.greaterThan(-1);
      const installRun = build.instructions[install]!;
      expect(installRun.getArgumentsContent()).to.include('--frozen-lockfile');
      const home = instructionsOf(build, 'ENV').map((e) => /PNPM_HOME=(\S+)/.exec(e.getArgumentsContent() ?? '')?.[1]).find(Boolean);
      const mounts = (installRun.getFlags?.() ?? []).filter((f) => f.getName() === 'mount').map((f) => f.getValue() ?? '');
      expect(mounts.some((m) => m.includes('type=cache') && m.includes(`target=${home}/store`)), `cache mount on ${home}/store`).to.equal(true);

      const copiedBefore = build.instructions
        .slice(0, install)
        .filter((i) => i.getKeyword() === 'COPY')
        .flatMap((c) => c.getArguments().slice(0, -1).map((a) => a.getValue()));
      expect(copiedBefore).to.include.members(['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc', ...workspaceManifests()]);
      const nonManifests = copiedBefore.filter((p) => !/(^|\/)(package\.json|pnpm-lock\.yaml|pnpm-workspace\.yaml|\.npmrc)$/.test(p));
      expect(nonManifests, 'only manifests before the install, so source edits reuse its layer').to.deep.equal([]);
    });

    it('copies only from stages defined before', () => {
      df.stages.forEach((stage, index) => {
        const earlier = df.stages.slice(0, index).map((s) => s.name);
        for (const copy of instructionsOf(stage, 'COPY')) {
          const from = copy.getFromFlag?.()?.getValue();
          if (from != null) expect(earlier, `COPY --from=${from} in stage ${stage.name}`).to.include(from);
        }
      });
    });

    it('runs as the numeric non-root user 1000 with NODE_ENV=production', () => {
      const user = instructionsOf(final, 'USER').at(-1)?.getArgumentsContent();
      expect(user, 'USER uid[:gid], numeric so runAsNonRoot can check it').to.match(/^\d+(:\d+)?$/);
      expect(user!.split(':')[0]).to.equal('1000');
      const env = instructionsOf(final, 'ENV').map((e) => e.getArgumentsContent() ?? '');
      expect(env.some((e) => /\bNODE_ENV=production\b/.test(e))).to.equal(true);
    });

    it('runs its package start script (node [flags] dist/main.js) from the deploy bundle in /app, under tini', () => {
      expect(instructionsOf(final, 'WORKDIR').at(-1)?.getArgumentsContent()).to.equal('/app');
      const bundle = instructionsOf(final, 'COPY').filter((c) => c.getFromFlag?.()?.getValue() === 'build');
      expect(bundle.map((c) => c.getArguments().map((a) => a.getValue()))).to.deep.equal([['/out', './']]);
      const entrypoint = execForm(instructionsOf(final, 'ENTRYPOINT').at(-1)!);
      expect(entrypoint[0]).to.match(/\/tini$/);
      expect(entrypoint.slice(1)).to.deep.equal(['--']);
      expect(instructionsOf(final, 'RUN').some((r) => /\bapk add\b.*\btini\b/.test(r.getArgumentsContent() ?? ''))).to.equal(true);
      // The same command as the package's start script, Node flags included (`pnpm start` and
      // `pnpm bench` run the services with those flags too).
      expect(execForm(instructionsOf(final, 'CMD').at(-1)!)).to.deep.equal(['node', ...serviceNodeFlags(join(ROOT, 'services', image.service)), 'dist/main.js']);
    });

    it(`exposes ${image.port} and health-checks /health there with node's fetch`, () => {
      expect(instructionsOf(final, 'EXPOSE').flatMap((e) => e.getArguments().map((a) => a.getValue().replace(/\/tcp$/, '')))).to.deep.equal([String(image.port)]);
      const checks = instructionsOf(final, 'HEALTHCHECK');
      expect(checks).to.have.length(1);
      const [node, flag, script] = execForm(checks[0]!);
      expect([node, flag]).to.deep.equal(['node', '-e']);
      const url = /fetch\('http:\/\/127\.0\.0\.1:'\+\(process\.env\.(\w+)\|\|(\d+)\)\+'(\/[\w/-]*)'/.exec(script ?? '');
      expect(url, `a fetch of http://127.0.0.1:<${image.portVar} or its default>/<path> in ${script}`).to.not.equal(null);
      expect({ variable: url![1], port: Number(url![2]), path: url![3] }).to.deep.equal({ variable: image.portVar, port: image.port, path: '/health' });
    });
  });
}

describe('.dockerignore', () => {
  // Docker's rules: the last matching pattern wins, `!` re-includes, a match on a folder covers its content.
  const patterns = () => readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const glob = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      const source = glob
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) =>
          part === '**/' ? '(?:.*/)?' : part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { negated, regex: new RegExp(`^${source}$`) };
    });
  const ignored = (path: string): boolean => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let result = false;
    for (const { negated, regex } of patterns()) if (prefixes.some((p) => regex.test(p))) result = !negated;
    return result;
  };

  it('keeps node_modules, dist, .git, .local, test output and bench results out of the build context', () => {
    const kept = [
      'node_modules/ioredis/package.json',
      'services/api/node_modules/@pipeline/redis',
      'packages/redis/node_modules/ioredis/built/index.js',
      'services/analyzer/dist/main.js',
      'packages/config/dist/index.js',
      'packages/config/tsconfig.tsbuildinfo',
      '.git/HEAD',
      '.local/redis/dump.rdb',
      'bench/tmp/run.json',
      'bench/results/latest.json',
      'coverage/lcov.info',
      'test/integration/pipeline.test.ts',
      'services/api/test/unit/ingest-validation.test.ts',
      'profile.cpuprofile',
    ].filter((path) => !ignored(path));
    expect(kept, 'let into the build context').to.deep.equal([]);
  });

  it('lets in everything the Dockerfiles copy from the context', () => {
    const sources = images.flatMap((image) =>
      parseDockerfile(image.dockerfile).stages.flatMap((stage) =>
        instructionsOf(stage, 'COPY')
          .filter((copy) => copy.getFromFlag?.() == null)
          .flatMap((copy) => copy.getArguments().slice(0, -1).map((a) => a.getValue())),
      ),
    );
    const samples = ['packages/config/src/index.ts', 'services/analyzer/src/lua/commit-batch-4.lua', 'services/api/tsconfig.json'];
    expect([...sources, ...samples].filter(ignored), 'ignored although the build needs it').to.deep.equal([]);
  });
});

describe('the image bundles (pnpm deploy, run alone)', function () {
  this.timeout(90_000);
  let tmp = '';
  const bundles = new Map<string, string>();

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'images-test-'));
    for (const image of images) {
      const built = join(ROOT, 'services', image.service, 'dist/main.js');
      if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first`);
      const out = join(tmp, 'build-stage', image.service, 'out');
      await runInWorkspace(deployCommand(parseDockerfile(image.dockerfile), out));
      const app = join(tmp, `${image.service}-image`, 'app');
      relocate(out, app);
      bundles.set(image.service, app);
    }
  });

  after(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  for (const image of images) {
    it(`${image.service}: holds its dist and exactly its production dependencies`, () => {
      const app = bundles.get(image.service)!;
      expect(statSync(join(app, 'dist/main.js')).isFile()).to.equal(true);
      const modules = join(app, 'node_modules');
      const topLevel = readdirSync(modules)
        .filter((name) => !name.startsWith('.'))
        .flatMap((name) => (name.startsWith('@') ? readdirSync(join(modules, name)).map((sub) => `${name}/${sub}`) : [name]));
      const manifest = readJson(join(ROOT, 'services', image.service, 'package.json'));
      expect(topLevel.sort()).to.deep.equal(Object.keys(manifest.dependencies).sort());
      const names = storePackages(app).map((p) => p.replace(/(.)@.*$/, '$1'));
      const devOnly = ['mocha', 'chai', 'typescript', 'tsx', 'fast-check', 'testcontainers', 'pino-pretty', 'dockerfile-utils'];
      expect(names.filter((n) => devOnly.includes(n) || n.startsWith('@types/'))).to.deep.equal([]);
      expect(readdirSync(join(modules, '.pnpm')).filter((n) => n.startsWith('@pipeline+testkit'))).to.deep.equal([]);
    });

    it(`${image.service}: reaches nothing outside itself (no symlink out, no node_modules above)`, () => {
      const app = bundles.get(image.service)!;
      expect(linksLeaving(app)).to.deep.equal([]);
      expect(nodeModulesAbove(app), 'Node would search these for anything the bundle lacks').to.deep.equal([]);
    });

    it(`${image.service}: installs every package at the version the lockfile pins`, () => {
      const lockfile = parseYaml(readFileSync(join(ROOT, 'pnpm-lock.yaml'), 'utf8')) as { packages: Record<string, unknown> };
      const locked = new Set(Object.keys(lockfile.packages).map((key) => key.replace(/\(.*$/, '')));
      const unlocked = storePackages(bundles.get(image.service)!).filter((p) => !locked.has(p));
      expect(unlocked).to.deep.equal([]);
    });
  }

  it('analyzer: carries dist/lua/commit-batch-4.lua, which it reads at run time', () => {
    const script = join(bundles.get('analyzer')!, 'dist/lua/commit-batch-4.lua');
    expect(existsSync(script), script).to.equal(true);
    expect(readFileSync(script, 'utf8')).to.include('XACK');
  });

  describe('run from the bundles alone', () => {
    let redis: TestRedis | undefined;
    const processes: BundleProcess[] = [];

    after(async () => {
      await Promise.all(processes.map((p) => p.stop(2000)));
      await redis?.stop();
    });

    it('api and analyzer answer /health, /ready and their HEALTHCHECK, accept an event and count it', async () => {
      redis = await startTestRedis();
      const common = { NODE_ENV: 'production', REDIS_URL: redis.url, KEY_PREFIX: redis.keyPrefix, LOG_LEVEL: 'warn' };
      const ports = { api: await freePort(), analyzer: await freePort() };
      const start = (service: 'api' | 'analyzer', env: Record<string, string>) =>
        startBundle({ dir: bundles.get(service)!, name: service, env: { ...common, ...env }, readyUrl: `http://127.0.0.1:${ports[service]}/ready`, node: NODE, nodeFlags: serviceNodeFlags(join(ROOT, 'services', service)) });
      const analyzer = await start('analyzer', { METRICS_PORT: String(ports.analyzer), CONSUMER_NAME: 'image-test' });
      processes.push(analyzer);
      const api = await start('api', { PORT: String(ports.api) });
      processes.push(api);

      for (const image of images) {
        const base = `http://127.0.0.1:${ports[image.service]}`;
        for (const probe of ['/health', '/ready']) expect((await getJson(`${base}${probe}`)).status, `${image.service} ${probe}`).to.equal(200);
        const check = execForm(instructionsOf(finalStage(parseDockerfile(image.dockerfile)), 'HEALTHCHECK')[0]!);
        expect(await runExecForm(check, NODE, { [image.portVar]: String(ports[image.service]) }), `${image.service} HEALTHCHECK`).to.equal(0);
        expect(await runExecForm(check, NODE, { [image.portVar]: String(await freePort()) }), 'HEALTHCHECK with nothing listening').to.equal(1);
      }

      const api202 = await postJson(`http://127.0.0.1:${ports.api}/ingest`, { timestamp: 1764000000, cpu: 42.5, rps: 1200 });
      expect(api202.status, JSON.stringify(api202.body)).to.equal(202);
      const stats = await waitFor(
        async () => {
          const res = await getJson(`http://127.0.0.1:${ports.api}/stats`);
          return res.body?.count === 1 ? res.body : undefined;
        },
        { timeoutMs: 15_000, message: () => `/stats never showed count 1\n--- analyzer ---\n${analyzer.output()}\n--- api ---\n${api.output()}` },
      );
      expect(stats).to.include({ count: 1, last_cpu: 42.5, last_rps: 1200 });

      for (const service of [api, analyzer]) expect(await service.stop(), `${service.name} exit on SIGTERM\n${service.output()}`).to.deep.equal({ code: 0, signal: null });
    });
  });
});
