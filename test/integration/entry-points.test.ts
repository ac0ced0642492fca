import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { serviceNodeFlags, startService } from '@pipeline/testkit';
import { ANALYZER_MAIN, API_MAIN } from '../support/pipeline.js';

describe('the entry points', function () {
  this.timeout(20_000);

  const cases: { name: string; script: string; env: Record<string, string>; mentions: string[] }[] = [
    { name: 'api', script: API_MAIN, env: { WINDOW_SIZE: '0', PORT: 'http' }, mentions: ['WINDOW_SIZE', 'PORT'] },
    { name: 'analyzer', script: ANALYZER_MAIN, env: { MIN_SAMPLES: '60', WINDOW_SIZE: '50' }, mentions: ['MIN_SAMPLES'] },
    { name: 'analyzer', script: ANALYZER_MAIN, env: { REDIS_URL: 'localhost:6379', BATCH_SIZE: '-1' }, mentions: ['REDIS_URL', 'BATCH_SIZE'] },
    { name: 'analyzer', script: ANALYZER_MAIN, env: { REDIS_PASSWORD_FILE: '/nonexistent/redis-password' }, mentions: ['REDIS_PASSWORD_FILE'] },
    { name: 'api', script: API_MAIN, env: { REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, mentions: ['REDIS_TLS_CA_FILE'] },
  ];
  for (const c of cases) {
    it(`${c.name} exits 1 naming ${c.mentions.join(' and ')} when they are invalid`, async () => {
      const service = await startService({ script: c.script, name: c.name, env: c.env });
      const exit = await service.exited;
      expect(exit.code, service.output()).to.equal(1);
      for (const variable of c.mentions) expect(service.output()).to.include(variable);
      expect(service.output()).to.include('Invalid configuration');
    });
  }

  it('api exits 1 naming INGEST_TOKENS for a weak token, without printing it', async () => {
    const weak = 'tooshort-7f3a';
    const service = await startService({ script: API_MAIN, name: 'api', env: { INGEST_TOKENS: `ok-token-0123456789abcdef,${weak}` } });
    expect((await service.exited).code, service.output()).to.equal(1);
    expect(service.output()).to.include('INGEST_TOKENS').and.include('too short');
    expect(service.output()).to.not.include(weak).and.not.include('ok-token-0123456789abcdef');
  });

  it('each service package has a start script running its built main.js, with Node flags node accepts', () => {
    for (const service of ['api', 'analyzer']) {
      const dir = fileURLToPath(new URL(`../../services/${service}`, import.meta.url));
      const flags = serviceNodeFlags(dir); // throws unless the script reads `node [--flag …] dist/main.js`
      const check = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
      expect(check.status, `${service}: node ${flags.join(' ')}: ${check.stderr}`).to.equal(0);
    }
  });
});
