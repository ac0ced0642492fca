import { runService } from '@pipeline/lifecycle';
import { redactUrl } from '@pipeline/logger';
import { createAnalyzer } from './analyzer.js';
import { loadAnalyzerConfig } from './config.js';

runService({
  name: 'analyzer',
  loadConfig: () => loadAnalyzerConfig(process.env),
  create: (config, log) => {
    const analyzer = createAnalyzer(config, log);
    return {
      start: async () => ({
        ...(await analyzer.start()),
        redis: redactUrl(config.redisUrl),
        consumer: config.consumerName,
        windowSize: config.windowSize,
        batchSize: config.batchSize,
      }),
      stop: () => analyzer.stop(),
    };
  },
});
