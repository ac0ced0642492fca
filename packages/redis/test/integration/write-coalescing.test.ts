import { expect } from 'chai';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { startTestRedis, waitFor, type TestRedis } from '@pipeline/testkit';
import { coalesceWrites } from '../../src/write-coalescing.js';

/** Counts the socket's writes as they leave the stream: one `_writev` carries many commands. */
function countSocketWrites(socket: Socket): { writes: number; chunks: number } {
  const seen = { writes: 0, chunks: 0 };
  const writable = socket as unknown as {
    _write: (chunk: unknown, encoding: string, cb: () => void) => void;
    _writev: (chunks: unknown[], cb: () => void) => void;
  };
  const write = writable._write.bind(socket);
  const writev = writable._writev.bind(socket);
  writable._write = (chunk, encoding, cb) => {
    seen.writes++;
    seen.chunks++;
    write(chunk, encoding, cb);
  };
  writable._writev = (chunks, cb) => {
    seen.writes++;
    seen.chunks += chunks.length;
    writev(chunks, cb);
  };
  return seen;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('coalesceWrites', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  const connect = async (coalesce: boolean) => {
    const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    clients.push(client);
    if (coalesce) coalesceWrites(client);
    await client.connect();
    return client;
  };

  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });

  it('sends the commands of one event-loop turn in one socket write, each answered in order', async () => {
    const client = await connect(true);
    const key = `${redis.keyPrefix}:counter`;
    const seen = countSocketWrites(client.stream as Socket);
    const replies = await Promise.all(Array.from({ length: 50 }, () => client.incr(key)));
    expect(replies).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(seen).to.deep.equal({ writes: 1, chunks: 50 });
  });

  it('without it, each command is its own socket write (what the test above tells apart)', async () => {
    const client = await connect(false);
    const seen = countSocketWrites(client.stream as Socket);
    await Promise.all(Array.from({ length: 50 }, () => client.incr(`${redis.keyPrefix}:plain`)));
    expect(seen.writes).to.be.greaterThan(1);
  });

  it('starts a new write for each turn', async () => {
    const client = await connect(true);
    const key = `${redis.keyPrefix}:turns`;
    const seen = countSocketWrites(client.stream as Socket);
    const first = [client.incr(key), client.incr(key)];
    await turn();
    const second = [client.incr(key), client.incr(key), client.incr(key)];
    expect(await Promise.all([...first, ...second])).to.deep.equal([1, 2, 3, 4, 5]);
    expect(seen).to.deep.equal({ writes: 2, chunks: 5 });
  });

  it('leaves explicit pipelines and MULTI to ioredis, answered as without it', async () => {
    const client = await connect(true);
    const key = `${redis.keyPrefix}:batched`;
    const [piped, multi, single] = await Promise.all([
      client.pipeline().incr(key).incr(key).exec(),
      client.multi().incr(key).get(key).exec(),
      client.incr(key),
    ]);
    expect(piped).to.deep.equal([
      [null, 1],
      [null, 2],
    ]);
    expect(multi).to.deep.equal([
      [null, 3],
      [null, '3'],
    ]);
    expect(single).to.equal(4);
  });

  it('fails commands at once while disconnected and coalesces again on the new socket after a reconnect', async () => {
    const client = await connect(true);
    const key = `${redis.keyPrefix}:reconnect`;
    const admin = await connect(false);
    await admin.client('KILL', 'SKIPME', 'yes', 'ID', String(await client.client('ID')));
    await waitFor(() => client.status !== 'ready', { timeoutMs: 2000, message: 'the client never noticed the kill' });
    // ioredis waits before reconnecting (its retry strategy), so the connection is down here.
    const failed = await client.incr(key).catch((err: unknown) => err);
    expect(failed).to.be.instanceOf(Error);
    await waitFor(() => client.status === 'ready', { timeoutMs: 5000, message: 'the client never reconnected' });

    const seen = countSocketWrites(client.stream as Socket);
    expect(await Promise.all([client.incr(key), client.incr(key), client.incr(key)])).to.deep.equal([1, 2, 3]);
    expect(seen).to.deep.equal({ writes: 1, chunks: 3 });
  });
});
