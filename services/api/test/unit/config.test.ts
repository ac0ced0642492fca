import { expect } from 'chai';
import { ConfigError } from '@pipeline/config';
import { loadApiConfig } from '../../src/config.js';

const DEFAULT_IDEMPOTENCY_TTL = 3600;

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadApiConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return expect.fail('expected a ConfigError');
}

/** The single problem for `env`, which must name `variable`. */
function onlyProblem(env: Record<string, string>, variable: string): string {
  const problems = problemsOf(env);
  expect(problems).to.have.length(1);
  expect(problems[0]).to.match(new RegExp(`^${variable} `));
  return problems[0]!;
}

describe('loadApiConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadApiConfig({});
    expect(config).to.include({
      port: 8080,
      maxBatch: 1000,
      maxBacklog: 1_000_000,
      windowSize: 50,
      keyPrefix: 'metrics',
      redisUrl: 'redis://127.0.0.1:6379',
      logLevel: 'info',
    });
  });

  it('reads given values as typed numbers and strings', () => {
    const config = loadApiConfig({
      PORT: '0',
      MAX_BATCH: '5',
      MAX_BACKLOG: '20',
      WINDOW_SIZE: '200',
      KEY_PREFIX: 'test-1a2b',
      REDIS_URL: 'rediss://cache.internal:6380/2',
      LOG_LEVEL: 'silent',
    });
    expect(config).to.include({
      port: 0,
      maxBatch: 5,
      maxBacklog: 20,
      windowSize: 200,
      keyPrefix: 'test-1a2b',
      redisUrl: 'rediss://cache.internal:6380/2',
      logLevel: 'silent',
    });
  });

  it('returns a frozen config', () => {
    expect(Object.isFrozen(loadApiConfig({}))).to.equal(true);
  });

  it('rejects WINDOW_SIZE=0 naming the variable', () => {
    expect(onlyProblem({ WINDOW_SIZE: '0' }, 'WINDOW_SIZE')).to.include('"0"');
  });

  it('rejects PORT=abc naming the variable', () => {
    expect(onlyProblem({ PORT: 'abc' }, 'PORT')).to.include('"abc"');
  });

  it('rejects PORT=65536 naming the variable', () => {
    onlyProblem({ PORT: '65536' }, 'PORT');
  });

  it('rejects REDIS_URL=http://x naming the variable', () => {
    expect(onlyProblem({ REDIS_URL: 'http://x' }, 'REDIS_URL')).to.include('"http://x"');
  });

  it('rejects LOG_LEVEL=loud naming the variable', () => {
    expect(onlyProblem({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL')).to.include('"loud"');
  });

  it('rejects MAX_BATCH=0 naming the variable', () => {
    onlyProblem({ MAX_BATCH: '0' }, 'MAX_BATCH');
  });

  it('rejects a KEY_PREFIX with braces, which would break the hash tag', () => {
    onlyProblem({ KEY_PREFIX: 'a{b}' }, 'KEY_PREFIX');
  });

  it('lists every invalid variable at once', () => {
    const problems = problemsOf({ WINDOW_SIZE: '0', PORT: 'abc', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
    expect(problems.map((p) => p.split(' ')[0]).sort()).to.deep.equal(['LOG_LEVEL', 'PORT', 'REDIS_URL', 'WINDOW_SIZE']);
  });

  it('keeps Idempotency-Key records for IDEMPOTENCY_TTL_SECONDS, 1 s to 7 days', () => {
    expect(loadApiConfig({}).idempotencyTtlSeconds).to.equal(DEFAULT_IDEMPOTENCY_TTL);
    expect(loadApiConfig({ IDEMPOTENCY_TTL_SECONDS: '1' }).idempotencyTtlSeconds).to.equal(1);
    expect(loadApiConfig({ IDEMPOTENCY_TTL_SECONDS: '604800' }).idempotencyTtlSeconds).to.equal(604800);
    for (const bad of ['0', '604801', '1.5', 'a day']) onlyProblem({ IDEMPOTENCY_TTL_SECONDS: bad }, 'IDEMPOTENCY_TTL_SECONDS');
  });

  it('rejects HEADERS_TIMEOUT_MS above REQUEST_TIMEOUT_MS naming both', () => {
    const problem = onlyProblem({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }, 'HEADERS_TIMEOUT_MS');
    expect(problem).to.include('REQUEST_TIMEOUT_MS');
    expect(loadApiConfig({ HEADERS_TIMEOUT_MS: '10000', REQUEST_TIMEOUT_MS: '10000' }).headersTimeoutMs).to.equal(10000);
  });

  describe('INGEST_TOKENS and READ_TOKENS', () => {
    const INGEST = 'i'.repeat(16);
    const READ = 'r0123456789abcdef-._~+/==';

    it('are off (empty) by default, and when set to an empty or blank value', () => {
      for (const env of [{}, { INGEST_TOKENS: '', READ_TOKENS: '  ' }, { INGEST_TOKENS: ' , ,' }]) {
        const config = loadApiConfig(env);
        expect(config.ingestTokens).to.deep.equal([]);
        expect(config.readTokens).to.deep.equal([]);
      }
    });

    it('split on commas, blanks around each token trimmed', () => {
      const config = loadApiConfig({ INGEST_TOKENS: ` ${INGEST} , ${INGEST}2,`, READ_TOKENS: READ });
      expect(config.ingestTokens).to.deep.equal([INGEST, `${INGEST}2`]);
      expect(config.readTokens).to.deep.equal([READ]);
    });

    it('reject a short token naming the variable and its position, never the token', () => {
      const problem = onlyProblem({ INGEST_TOKENS: `${INGEST},short-tok3n` }, 'INGEST_TOKENS');
      expect(problem).to.include('too short').and.include('token 2 of 2');
      expect(problem).to.not.include('short-tok3n');
    });

    it('reject a token that cannot travel in a Bearer header', () => {
      const problem = onlyProblem({ READ_TOKENS: 'has spaces inside 0123456789' }, 'READ_TOKENS');
      expect(problem).to.include('other characters').and.not.include('spaces inside');
      onlyProblem({ READ_TOKENS: 'quote"0123456789abcdef' }, 'READ_TOKENS');
    });

    it('reject a token in both sets: an ingest token must not read', () => {
      const problem = onlyProblem({ INGEST_TOKENS: INGEST, READ_TOKENS: `${READ},${INGEST}` }, 'INGEST_TOKENS');
      expect(problem).to.include('READ_TOKENS').and.not.include(INGEST);
    });
  });
});
