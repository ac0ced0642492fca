// The Redis ACL users (packages/redis/src/acl.ts) against the code: every command the services'
// Redis modules and the commit script send is granted to the service that sends it. A quick
// guard; test/integration/redis-acl.test.ts proves it by running both services as those users.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { grantedCommands, IDEMPOTENCY_RECORD_COMMANDS, SERVICE_COMMANDS, type PipelineService } from '@pipeline/redis';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const source = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

/** Where each service's Redis calls live (each service keeps them in one module, plus the shared one). */
const MODULES: Record<PipelineService, string[]> = {
  api: ['services/api/src/event-store.ts', 'packages/redis/src/consumer-group.ts'],
  analyzer: ['services/analyzer/src/stream-store.ts', 'packages/redis/src/consumer-group.ts'],
};
// Container commands are granted per subcommand (`xinfo|groups`).
const CONTAINERS = new Set(['xinfo', 'xgroup', 'client', 'script', 'config', 'object']);
// Client-side methods that send no command of their own (a pipeline is sent as its commands).
const NOT_COMMANDS = new Set(['pipeline', 'defineCommand', 'on', 'off', 'once', 'quit', 'disconnect']);
// Lua scripts defined as commands (lua-scripts.ts): ioredis sends them as EVALSHA, or EVAL.
const SCRIPT_COMMANDS = new Set(['commitBatch', 'appendBatch', 'appendIdempotent']);

/** The Redis commands an ioredis-using module calls: `<client>.<command>(` with its subcommand. */
function commandsIn(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/\b(redis|commands|blocking|pipeline|multi)\.([a-zA-Z]+)\(\s*(?:'([A-Za-z]+)')?/g)) {
    const [, client, method, firstArg] = m as unknown as [string, string, string, string | undefined];
    if (NOT_COMMANDS.has(method) || (client === 'pipeline' && method === 'exec')) continue;
    if (SCRIPT_COMMANDS.has(method)) {
      found.add('evalsha').add('eval');
      continue;
    }
    // `call('XADD', …)` / `callBuffer(…)` name the command in their first argument; `xrangeBuffer`
    // is XRANGE with the reply left as bytes.
    const isCall = method === 'call' || method === 'callBuffer';
    const name = (isCall ? (firstArg ?? '?') : method.replace(/Buffer$/, '')).toLowerCase();
    found.add(CONTAINERS.has(name) ? `${name}|${(firstArg ?? '?').toLowerCase()}` : name);
  }
  return [...found];
}

describe('Redis ACL users agree with the code', () => {
  for (const service of ['api', 'analyzer'] as const) {
    it(`the ${service} user is granted every command the ${service}'s Redis modules send`, () => {
      const granted = new Set(SERVICE_COMMANDS[service]);
      const sent = MODULES[service].flatMap((path) => commandsIn(source(path)).map((c) => ({ c, path })));
      expect(sent.length, `no Redis calls found for ${service}: has the code moved?`).to.be.greaterThan(3);
      for (const { c, path } of sent) expect(granted.has(c), `${path} sends ${c.toUpperCase()}, not granted to ${service} in acl.ts`).to.equal(true);
    });
  }

  for (const service of ['api', 'analyzer'] as const) {
    it(`the ${service} user is granted every command its Lua scripts call`, () => {
      const dir = `services/${service}/src/lua`;
      const granted = new Set(grantedCommands(service));
      const files = readdirSync(`${ROOT}${dir}`).filter((f) => f.endsWith('.lua'));
      expect(files).to.not.be.empty;
      for (const file of files) {
        const calls = [...source(`${dir}/${file}`).matchAll(/redis\.p?call\(\s*'([A-Za-z]+)'/g)].map((m) => m[1]!.toLowerCase());
        expect(calls, `${file}: no redis.call found`).to.not.be.empty;
        for (const c of calls) expect(granted.has(c), `${file} calls ${c.toUpperCase()}, not granted to the ${service} in acl.ts`).to.equal(true);
      }
    });
  }

  it('the api user is granted nothing the api does not send', () => {
    const sent = new Set(MODULES.api.flatMap((path) => commandsIn(source(path))));
    const connection = ['client|setname', 'info', 'ping'];
    for (const c of SERVICE_COMMANDS.api) expect(sent.has(c) || connection.includes(c), `acl.ts grants ${c} to the api, which never sends it`).to.equal(true);
    // The records' commands are what append-idempotent-1.lua calls, no more.
    const script = source('services/api/src/lua/append-idempotent-1.lua');
    const calls = new Set([...script.matchAll(/redis\.p?call\(\s*'([A-Za-z]+)'/g)].map((m) => m[1]!.toLowerCase()));
    for (const c of IDEMPOTENCY_RECORD_COMMANDS) expect(calls.has(c), `acl.ts grants ${c} on the idempotency records, which the script never calls`).to.equal(true);
  });
});
