import { createServer } from 'node:net';

/**
 * Finds a TCP port that is free on 127.0.0.1 right now: listens on port 0, reads the port the
 * OS picked and closes the listener again.
 *
 * The port is only known to be free at the moment of the call; another process may take it
 * before the caller binds it, so bind it soon.
 */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listener address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
