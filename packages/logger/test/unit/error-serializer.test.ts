import { expect } from 'chai';
import { Writable } from 'node:stream';
import { createLogger, LOGGED_ARG_CHARS, LOGGED_COMMAND_ARGS } from '../../src/index.js';

/** A logger for `service` whose JSON lines are collected in `lines`. */
function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: createLogger({ service: 'test', level: 'info' }, destination), lines };
}

/** An error shaped as ioredis rejects a command Redis answered with an error. */
function replyError(name: string, args: unknown[]): Error {
  return Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { command: { name, args } });
}

describe('logged errors', () => {
  it('keep a failed command to its name, argument count and first arguments, shortened', () => {
    const { log, lines } = capture();
    const ids = Array.from({ length: 5000 }, (_, i) => `1764000000000-${i}`);
    const long = 'x'.repeat(10_000);
    log.error({ err: replyError('evalsha', [long, ...ids]) }, 'batch failed; retrying');

    expect(lines).to.have.length(1);
    expect(lines[0]!.length, 'one line, not the ~100 KB of arguments').to.be.below(2000);
    const entry = JSON.parse(lines[0]!) as { err: { message: string; stack: string; command: { name: string; argCount: number; args: string[] } } };
    expect(entry.err.message).to.equal('OOM command not allowed when used memory > maxmemory');
    expect(entry.err.stack).to.be.a('string');
    expect(entry.err.command.name).to.equal('evalsha');
    expect(entry.err.command.argCount).to.equal(5001);
    expect(entry.err.command.args).to.have.length(LOGGED_COMMAND_ARGS + 1);
    expect(entry.err.command.args[0]).to.equal(`${'x'.repeat(LOGGED_ARG_CHARS)}… (10000 chars)`);
    expect(entry.err.command.args.slice(1, LOGGED_COMMAND_ARGS)).to.deep.equal(ids.slice(0, LOGGED_COMMAND_ARGS - 1));
    expect(entry.err.command.args[LOGGED_COMMAND_ARGS]).to.equal(`… ${5001 - LOGGED_COMMAND_ARGS} more`);
  });

  it('write a short command whole, and bytes as their length', () => {
    const { log, lines } = capture();
    log.warn({ err: replyError('xadd', ['metrics:{default}:events', Buffer.from('raw')]) }, 'ingest failed');
    const entry = JSON.parse(lines[0]!) as { err: { command: unknown } };
    expect(entry.err.command).to.deep.equal({ name: 'xadd', argCount: 2, args: ['metrics:{default}:events', '<3 bytes>'] });
  });

  it('never write the arguments of a command that carries credentials', () => {
    const { log, lines } = capture();
    log.warn({ err: replyError('auth', ['analyzer', 's3cret-password']) }, 'redis connection error');
    log.warn({ err: replyError('HELLO', ['3', 'AUTH', 'analyzer', 's3cret-password']) }, 'redis connection error');
    expect(lines.join('')).to.not.include('s3cret');
    const entry = JSON.parse(lines[0]!) as { err: { command: unknown } };
    expect(entry.err.command).to.deep.equal({ name: 'auth', argCount: 2, args: ['… 2 more'] });
  });

  it('leave errors without a command as pino writes them', () => {
    const { log, lines } = capture();
    log.error({ err: new TypeError('boom') }, 'unhandled error');
    const entry = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(entry.err).to.include({ type: 'TypeError', message: 'boom' });
    expect(entry.err).to.not.have.property('command');
  });
});
