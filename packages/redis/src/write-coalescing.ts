import type { Redis } from 'ioredis';

/**
 * Makes the commands a connection is sent during one turn of the event loop leave in one socket
 * write: the socket is corked at the turn's first command and uncorked when the turn's I/O
 * callbacks are done (setImmediate), so the concurrent requests a turn serves share one `writev`
 * and Redis reads them in one go.
 *
 * What ioredis's auto-pipelining is for, without its per-turn Pipeline: measured on this machine
 * class (issue 7), auto-pipelining's Pipeline keeps each command's objects alive across young-
 * generation collections (~0.8–1.1 KB promoted to the old generation per command, where a plain
 * command promotes none), so the process pays for major GCs, and it costs ~9 µs of CPU per XADD
 * against ~4.6 µs corked (20 concurrent callers, same Redis).
 *
 * Commands ioredis writes on a stream of its own (a pipeline or MULTI it was asked for) are left
 * alone; so is a connection that is not ready (its commands fail or queue as before).
 */
export function coalesceWrites(redis: Redis): void {
  let corked: Redis['stream'] | null = null;
  const release = () => {
    const socket = corked;
    corked = null;
    socket?.uncork();
  };
  const send = redis.sendCommand;
  redis.sendCommand = function (this: Redis, command, stream) {
    if (corked === null && stream === undefined && this.status === 'ready') {
      corked = this.stream;
      corked.cork();
      setImmediate(release);
    }
    return send.call(this, command, stream);
  };
}
