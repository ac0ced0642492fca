import { exitOnConfigError } from '@pipeline/config';
import { createLogger, redactUrl } from '@pipeline/logger';
import { createApiServer } from './api-server.js';
import { loadApiConfig, type ApiConfig } from './config.js';

let config: Readonly<ApiConfig>;
try {
  config = loadApiConfig(process.env);
} catch (err) {
  exitOnConfigError(err, 'api');
}
const log = createLogger({ service: 'api', level: config.logLevel });
const api = createApiServer(config, log);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing in-flight requests');
  setTimeout(() => {
    log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
  await api.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

api.start().then(
  ({ port }) => log.info({ port, redis: redactUrl(config.redisUrl), maxBacklog: config.maxBacklog }, 'api listening'),
  (err: unknown) => {
    log.fatal({ err }, 'api failed to start');
    process.exit(1);
  },
);
