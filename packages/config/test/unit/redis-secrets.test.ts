import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { sharedEnv, toSharedConfig } from '../../src/env-schemas.js';
import { ConfigError, loadConfig, type Env } from '../../src/load-config.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('the shared Redis settings: REDIS_PASSWORD_FILE and REDIS_TLS_CA_FILE', () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const load = (env: Env) => loadConfig({ type: 'object', properties: sharedEnv }, env, toSharedConfig);
  const problems = (env: Env): readonly string[] => {
    try {
      load(env);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    return expect.fail('expected a ConfigError');
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'redis-secrets-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has neither secret when neither file is set', () => {
    const config = load({});
    expect(config).to.not.have.property('redisPassword');
    expect(config).to.not.have.property('redisTlsCa');
  });

  it('reads the password file at load, dropping the trailing newline and nothing else', () => {
    expect(load({ REDIS_PASSWORD_FILE: file('pw', ' s3cret pass\n') }).redisPassword).to.equal(' s3cret pass');
    expect(load({ REDIS_PASSWORD_FILE: file('pw-crlf', 'abc\r\n') }).redisPassword).to.equal('abc');
    expect(load({ REDIS_PASSWORD_FILE: file('pw-bare', 'abc') }).redisPassword).to.equal('abc');
  });

  it('names REDIS_PASSWORD_FILE when the file is missing or empty', () => {
    const missing = problems({ REDIS_PASSWORD_FILE: join(dir, 'nope') });
    expect(missing).to.have.length(1);
    expect(missing[0]).to.match(/^REDIS_PASSWORD_FILE names a file that cannot be read: .*nope \(ENOENT\)$/);
    expect(problems({ REDIS_PASSWORD_FILE: file('empty', '\n') })[0]).to.match(/^REDIS_PASSWORD_FILE names an empty file/);
  });

  it('reads the CA file for a rediss:// URL', () => {
    const config = load({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS_CA_FILE: file('ca.pem', PEM) });
    expect(config.redisTlsCa).to.equal(PEM);
  });

  it('rejects a CA file with a redis:// URL, and a file that holds no certificate, naming the variable', () => {
    expect(problems({ REDIS_TLS_CA_FILE: file('ca2.pem', PEM) })).to.deep.equal([
      'REDIS_TLS_CA_FILE is set but REDIS_URL does not start with rediss:// (the CA is only used for TLS)',
    ]);
    const notPem = problems({ REDIS_URL: 'rediss://redis', REDIS_TLS_CA_FILE: file('key.txt', 'secret key material') });
    expect(notPem).to.have.length(1);
    expect(notPem[0]).to.match(/^REDIS_TLS_CA_FILE names a file without a PEM certificate/);
    expect(notPem[0]).to.not.include('secret key material');
  });

  it('lists a bad password file and a bad CA file together', () => {
    const both = problems({ REDIS_URL: 'rediss://redis', REDIS_PASSWORD_FILE: join(dir, 'x'), REDIS_TLS_CA_FILE: join(dir, 'y') });
    expect(both.map((p) => p.split(' ')[0])).to.deep.equal(['REDIS_PASSWORD_FILE', 'REDIS_TLS_CA_FILE']);
  });
});
