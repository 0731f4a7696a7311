// Entry point of the `emomix` command: one sub-command per job.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Command = { describe: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  serve: { describe: 'run the server: WebSocket streaming, HTTP speech routes and the studio', load: () => import('./serve.js') },
  say: { describe: 'speak a text (or all of stdin) through a running server, to a file or the speakers', load: () => import('./say.js') },
  stream: { describe: 'speak stdin while it is still being written (pipe an LLM in)', load: () => import('./stream.js') },
  synth: { describe: 'synthesize JSON-lines requests offline with a voice directory, no server (for evaluation)', load: () => import('./synth.js') },
  cluster: { describe: 'run N servers behind HAProxy in the foreground, for tests and demos (needs haproxy)', load: () => import('./cluster.js') },
  phonemize: { describe: "print the front end's phonemes and the spoken words they make up, as JSON", load: () => import('./phonemize.js') },
};

/** The package's version, from the package.json above this file (src/cli/ in a checkout, dist/src/cli/ when built). */
function version(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'emomix-server') return pkg.version ?? 'unknown';
    } catch {
      // No package.json here: look further up.
    }
  }
  return 'unknown';
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.describe}`);
  return `usage: emomix <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n\`emomix <command> --help\` lists a command's options; \`emomix --version\` prints the version.\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === '--version' || name === '-v') {
  process.stdout.write(`emomix ${version()}\n`);
} else if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
} else {
  const command = commands[name];
  if (!command) {
    process.stderr.write(`emomix: unknown command "${name}"\n\n${usage()}`);
    process.exitCode = 2;
  } else {
    process.exitCode = await (await command.load()).main(rest);
  }
}
