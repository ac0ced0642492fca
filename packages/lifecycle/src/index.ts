import { exitOnConfigError, type SharedConfig } from '@pipeline/config';
import { createLogger, type Logger } from '@pipeline/logger';

export interface ServiceDefinition<C extends SharedConfig> {
  /** Service name, for logs and config errors. */
  readonly name: string;
  /** Reads and validates the environment (throws ConfigError). */
  readonly loadConfig: () => C;
  /** Builds the service; it must not start anything yet. */
  readonly create: (config: C, log: Logger) => { start(): Promise<object>; stop(): Promise<void> };
}

/**
 * The whole life of a service process: config (a bad value exits 1 naming it), logger, start
 * (a failure exits 1), and SIGTERM/SIGINT → an idempotent stop, exit 0, or exit 1 if draining
 * outlasts SHUTDOWN_TIMEOUT_MS.
 */
export function runService<C extends SharedConfig>(definition: ServiceDefinition<C>): void {
  let config: C;
  try {
    config = definition.loadConfig();
  } catch (err) {
    exitOnConfigError(err, definition.name);
  }
  const log = createLogger({ service: definition.name, level: config.logLevel });
  const service = definition.create(config, log);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: draining work in hand');
    setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    await service.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  service.start().then(
    (started) => log.info({ ...started }, `${definition.name} started`),
    (err: unknown) => {
      log.fatal({ err }, `${definition.name} failed to start`);
      process.exit(1);
    },
  );
}
