// `emomix cluster` (npm run cluster): N servers and HAProxy in the foreground.
import { createLogger } from '../server/logger.js';
import { Cluster } from '../cluster/cluster.js';
import { ClusterOptionsError, clusterHelp, parseClusterOptions } from '../cluster/options.js';
import { commandOptions } from './command-options.js';

export async function main(argv: string[]): Promise<number> {
  const parsed = commandOptions('cluster', clusterHelp, () => parseClusterOptions(argv, process.env), (error) => error instanceof ClusterOptionsError);
  if ('exit' in parsed) return parsed.exit;
  const { options } = parsed;
  const log = createLogger(process.env['LOG_LEVEL'] || 'info').child({ component: 'cluster' });
  // The instances run the same entry point as this process (bin/emomix.js, compiled or through tsx).
  const cluster = new Cluster(options, [process.execPath, ...process.execArgv, process.argv[1]!, 'serve'], log);

  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const onHangup = (): void => void cluster.rollingRestart().catch((error: unknown) => log.error({ err: error }, 'rolling restart failed'));
  process.on('SIGHUP', onHangup);
  try {
    await Promise.race([cluster.start(), stopped.then(() => Promise.reject(new Error('stopped while starting')))]);
  } catch (error) {
    log.fatal({ err: error }, 'cannot start the cluster');
    await cluster.stop(true);
    return 1;
  }
  log.info({ port: options.port, host: options.host, stats: cluster.statsUrl, instances: cluster.instances() }, 'cluster ready');

  const signal = await stopped;
  log.info({ signal }, 'stopping: instances drain');
  const force = (): void => void cluster.stop(true);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  process.off('SIGHUP', onHangup);
  await cluster.stop();
  log.info('stopped');
  return 0;
}
