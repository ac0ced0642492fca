import { expect } from 'chai';
import { ConfigError, loadConfig, maskUrlPassword, type Env } from '../../src/load-config.js';

const schema = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
    RATIO: { type: 'number', exclusiveMinimum: 0, maximum: 100, default: 2 },
    NAME: { type: 'string', pattern: '^[a-z]+$', default: 'metrics' },
    MODE: { type: 'string', enum: ['fast', 'slow'], default: 'fast' },
    TOKEN: { type: 'string' },
  },
} as const;

interface TestConfig {
  port: number;
  ratio: number;
  name: string;
  mode: string;
  token: string | undefined;
}

const toConfig = (v: Record<string, unknown>): TestConfig => ({
  port: v.PORT as number,
  ratio: v.RATIO as number,
  name: v.NAME as string,
  mode: v.MODE as string,
  token: v.TOKEN as string | undefined,
});

const load = (env: Env, crossChecks?: (c: TestConfig) => string[]) => loadConfig(schema, env, toConfig, crossChecks);

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies every default when the environment sets nothing', () => {
    expect(load({})).to.deep.equal({ port: 8080, ratio: 2, name: 'metrics', mode: 'fast', token: undefined });
  });

  it('coerces numeric strings to numbers', () => {
    const config = load({ PORT: '9000', RATIO: '0.25' });
    expect(config.port).to.equal(9000);
    expect(config.ratio).to.equal(0.25);
  });

  it('trims whitespace around a value', () => {
    const config = load({ PORT: ' 9000\n', NAME: '  abc ' });
    expect(config.port).to.equal(9000);
    expect(config.name).to.equal('abc');
  });

  it('treats empty and blank strings as unset, so defaults apply', () => {
    expect(load({ PORT: '', RATIO: '   ', NAME: '', MODE: '\t', TOKEN: '' })).to.deep.equal({
      port: 8080,
      ratio: 2,
      name: 'metrics',
      mode: 'fast',
      token: undefined,
    });
  });

  it('ignores variables the schema does not name', () => {
    const config = load({ PATH: '/usr/bin', PORT: '1', UNRELATED: 'x' });
    expect(config).to.deep.equal({ port: 1, ratio: 2, name: 'metrics', mode: 'fast', token: undefined });
  });

  it('passes a given optional string through unchanged', () => {
    expect(load({ TOKEN: 'Secret-1' }).token).to.equal('Secret-1');
  });

  it('rejects PORT=abc naming the variable and the given value', () => {
    const error = configError(() => load({ PORT: 'abc' }));
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]).to.match(/^PORT /).and.include('"abc"');
  });

  it('rejects a fraction for an integer variable', () => {
    const error = configError(() => load({ PORT: '1.5' }));
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]).to.match(/^PORT /).and.include('"1.5"');
  });

  it('rejects values outside the bounds, showing the value as given', () => {
    const error = configError(() => load({ PORT: '65536', RATIO: '0' }));
    expect(error.problems).to.have.length(2);
    expect(error.problems.find((p) => p.startsWith('PORT '))).to.include('65536').and.include('<= 65535');
    expect(error.problems.find((p) => p.startsWith('RATIO '))).to.include('"0"').and.include('> 0');
  });

  it('lists every bad variable at once (allErrors)', () => {
    const error = configError(() => load({ PORT: 'abc', RATIO: '-1', NAME: 'UPPER', MODE: 'medium', TOKEN: 'ok' }));
    expect(error.problems).to.have.length(4);
    for (const [name, value] of [
      ['PORT', 'abc'],
      ['RATIO', '-1'],
      ['NAME', 'UPPER'],
      ['MODE', 'medium'],
    ] as const) {
      const problem = error.problems.find((p) => p.startsWith(`${name} `));
      expect(problem, name).to.be.a('string').that.includes(JSON.stringify(value));
    }
  });

  it('puts one problem per line in the error message', () => {
    const error = configError(() => load({ PORT: 'abc', MODE: 'medium' }));
    expect(error.name).to.equal('ConfigError');
    expect(error).to.be.instanceOf(Error);
    const lines = error.message.split('\n');
    expect(lines).to.have.length(3);
    expect(lines[1]).to.include(error.problems[0]);
    expect(lines[2]).to.include(error.problems[1]);
  });

  it('names a missing required variable, counting an empty string as missing', () => {
    const required = { ...schema, required: ['TOKEN'] } as const;
    for (const env of [{}, { TOKEN: '' }, { TOKEN: '  ' }]) {
      const error = configError(() => loadConfig(required, env, toConfig));
      expect(error.problems).to.have.length(1);
      expect(error.problems[0]).to.match(/^TOKEN /);
    }
    expect(loadConfig(required, { TOKEN: 't' }, toConfig).token).to.equal('t');
  });

  it('returns a frozen object', () => {
    const config = load({});
    expect(Object.isFrozen(config)).to.equal(true);
    expect(Reflect.set(config, 'port', 1)).to.equal(false);
    expect(config.port).to.equal(8080);
  });

  it('does not modify the environment it was given', () => {
    const env = Object.freeze({ PORT: ' 9000 ', NAME: '' });
    load(env);
    expect(env).to.deep.equal({ PORT: ' 9000 ', NAME: '' });
  });

  it('runs cross-checks on the typed config and throws their problems', () => {
    let seen: TestConfig | undefined;
    const check = (c: TestConfig) => {
      seen = c;
      return c.port < c.ratio ? [`PORT must be >= RATIO (got ${c.port} < ${c.ratio})`] : [];
    };
    const error = configError(() => load({ PORT: '1', RATIO: '5' }, check));
    expect(error.problems).to.deep.equal(['PORT must be >= RATIO (got 1 < 5)']);
    expect(seen).to.include({ port: 1, ratio: 5 });
    expect(load({ PORT: '5', RATIO: '1' }, check).port).to.equal(5);
  });

  it('does not run cross-checks when a variable is invalid', () => {
    let called = false;
    const error = configError(() =>
      load({ PORT: 'abc' }, () => {
        called = true;
        return ['cross-check problem'];
      }),
    );
    expect(called).to.equal(false);
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]).to.match(/^PORT /);
  });

  it('never echoes the value of a writeOnly variable (a secret) in a problem', () => {
    const secretSchema = { type: 'object', properties: { SECRET: { type: 'string', writeOnly: true, minLength: 40 } } } as const;
    const error = configError(() => loadConfig(secretSchema, { SECRET: 'hunter2-hunter2' }, (v) => v));
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]).to.match(/^SECRET /);
    expect(error.message).to.not.include('hunter2');
  });

  it("masks a URL's password when it echoes the value", () => {
    const urlSchema = { type: 'object', properties: { URL: { type: 'string', pattern: '^rediss?://' } } } as const;
    const error = configError(() => loadConfig(urlSchema, { URL: 'http://user:s3cret@host:6379' }, (v) => v));
    expect(error.problems[0]).to.match(/^URL /).and.include('http://user:***@host:6379');
    expect(error.message).to.not.include('s3cret');
  });
});

describe('maskUrlPassword', () => {
  it('replaces the password of a URL, up to the last @ of the authority', () => {
    expect(maskUrlPassword('redis://api:pw@redis:6379/0')).to.equal('redis://api:***@redis:6379/0');
    expect(maskUrlPassword('rediss://:p@ss@host')).to.equal('rediss://:***@host');
  });

  it('leaves text without a password as it is', () => {
    for (const text of ['redis://redis:6379', 'redis://user@host', 'http://x', 'localhost:6379', 'a:b@c']) {
      expect(maskUrlPassword(text)).to.equal(text);
    }
  });
});
