// `emomix serve`: load the voices, listen, and drain on SIGTERM or SIGINT (a
// second signal closes at once).
import { ConfigError, helpText, parseConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { createServer } from '../server/server.js';
import { VoiceRegistry } from '../server/voices.js';
import { commandOptions } from './command-options.js';

export async function main(argv: string[]): Promise<number> {
  const parsed = commandOptions('serve', helpText, () => parseConfig(argv, process.env), (error) => error instanceof ConfigError);
  if ('exit' in parsed) return parsed.exit;
  const config = parsed.options;
  const logger = createLogger(config.logLevel);

  let voices: VoiceRegistry;
  try {
    voices = await VoiceRegistry.load({ ...config, logger: logger.child({ component: 'engine' }) });
  } catch (error) {
    logger.fatal({ err: error }, `cannot load voices from ${config.modelsDir}`);
    return 1;
  }
  const server = createServer({ config, voices, logger });
  try {
    await server.listen();
  } catch (error) {
    logger.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}`);
    await voices.close();
    return 1;
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'shutting down');
  const force = (): void => {
    logger.warn('second signal: closing every connection now');
    void server.close();
  };
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  await server.drain();
  await voices.close();
  return 0;
}
