// Entry point of the `emomix` command: one sub-command per job.
const commands: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  phonemize: () => import('./pipeline/frontend/cli.js'),
  say: () => import('../clients/cli/say.js'),
  serve: () => import('./server/cli.js'),
  stream: () => import('../clients/cli/stream.js'),
  synth: () => import('./pipeline/synthesis-cli.js'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name ? commands[name] : undefined;
if (!load) {
  process.stderr.write(`usage: emomix <${Object.keys(commands).join('|')}> [options]\n`);
  process.exit(name === undefined || name === '--help' ? 0 : 2);
} else {
  const mod = await load();
  process.exitCode = await mod.main(rest);
}
