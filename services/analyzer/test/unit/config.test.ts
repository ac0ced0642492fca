import { expect } from 'chai';
import { ConfigError } from '@pipeline/config';
import { loadAnalyzerConfig } from '../../src/config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadAnalyzerConfig(env);
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

describe('loadAnalyzerConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadAnalyzerConfig({});
    expect(config).to.include({
      metricsPort: 9091,
      windowSize: 50,
      zThreshold: 2,
      minSamples: 10,
      batchSize: 1000,
      blockMs: 1000,
      claimIdleMs: 30000,
      maxDeliveries: 10,
      keyPrefix: 'metrics',
      redisUrl: 'redis://127.0.0.1:6379',
      logLevel: 'info',
    });
  });

  it('defaults CONSUMER_NAME to a name containing the pid', () => {
    expect(loadAnalyzerConfig({}).consumerName).to.include(String(process.pid));
  });

  it('uses a given CONSUMER_NAME', () => {
    expect(loadAnalyzerConfig({ CONSUMER_NAME: 'analyzer-0@node.a' }).consumerName).to.equal('analyzer-0@node.a');
  });

  it('reads given values as typed numbers, fractions included', () => {
    const config = loadAnalyzerConfig({
      METRICS_PORT: '0',
      WINDOW_SIZE: '20',
      Z_THRESHOLD: '2.5',
      MIN_SAMPLES: '20',
      BATCH_SIZE: '7',
      BLOCK_MS: '1',
      CLAIM_IDLE_MS: '10',
      MAX_DELIVERIES: '1',
    });
    expect(config).to.include({
      metricsPort: 0,
      windowSize: 20,
      zThreshold: 2.5,
      minSamples: 20,
      batchSize: 7,
      blockMs: 1,
      claimIdleMs: 10,
      maxDeliveries: 1,
    });
  });

  it('returns a frozen config', () => {
    expect(Object.isFrozen(loadAnalyzerConfig({}))).to.equal(true);
  });

  it('rejects WINDOW_SIZE=0 naming the variable', () => {
    expect(onlyProblem({ WINDOW_SIZE: '0' }, 'WINDOW_SIZE')).to.include('"0"');
  });

  it('rejects METRICS_PORT=abc naming the variable', () => {
    expect(onlyProblem({ METRICS_PORT: 'abc' }, 'METRICS_PORT')).to.include('"abc"');
  });

  it('rejects REDIS_URL=http://x naming the variable', () => {
    expect(onlyProblem({ REDIS_URL: 'http://x' }, 'REDIS_URL')).to.include('"http://x"');
  });

  it('rejects LOG_LEVEL=loud naming the variable', () => {
    expect(onlyProblem({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL')).to.include('"loud"');
  });

  it('rejects Z_THRESHOLD=0 naming the variable', () => {
    onlyProblem({ Z_THRESHOLD: '0' }, 'Z_THRESHOLD');
  });

  it('rejects a CONSUMER_NAME with a space naming the variable', () => {
    onlyProblem({ CONSUMER_NAME: 'my consumer' }, 'CONSUMER_NAME');
  });

  it('rejects MIN_SAMPLES greater than WINDOW_SIZE naming both', () => {
    const problem = onlyProblem({ WINDOW_SIZE: '20', MIN_SAMPLES: '21' }, 'MIN_SAMPLES');
    expect(problem).to.include('WINDOW_SIZE').and.include('21 > 20');
  });

  it('rejects a WINDOW_SIZE below the default MIN_SAMPLES', () => {
    onlyProblem({ WINDOW_SIZE: '5' }, 'MIN_SAMPLES');
    expect(loadAnalyzerConfig({ WINDOW_SIZE: '5', MIN_SAMPLES: '5' })).to.include({ windowSize: 5, minSamples: 5 });
  });

  it('lists every invalid variable at once', () => {
    const problems = problemsOf({ WINDOW_SIZE: '0', METRICS_PORT: 'abc', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
    expect(problems.map((p) => p.split(' ')[0]).sort()).to.deep.equal(['LOG_LEVEL', 'METRICS_PORT', 'REDIS_URL', 'WINDOW_SIZE']);
  });
});
