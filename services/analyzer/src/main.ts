import { exitOnConfigError } from '@pipeline/config';
import { createLogger, redactUrl } from '@pipeline/logger';
import { createAnalyzer } from './analyzer.js';
import { loadAnalyzerConfig, type AnalyzerConfig } from './config.js';

let config: Readonly<AnalyzerConfig>;
try {
  config = loadAnalyzerConfig(process.env);
} catch (err) {
  exitOnConfigError(err, 'analyzer');
}
const log = createLogger({ service: 'analyzer', level: config.logLevel });
const analyzer = createAnalyzer(config, log);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping: finishing the batch in hand');
  setTimeout(() => {
    log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
  await analyzer.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

analyzer.start().then(
  ({ metricsPort }) =>
    log.info({ metricsPort, redis: redactUrl(config.redisUrl), windowSize: config.windowSize, batchSize: config.batchSize }, 'analyzer started'),
  (err: unknown) => {
    log.fatal({ err }, 'analyzer failed to start');
    process.exit(1);
  },
);
