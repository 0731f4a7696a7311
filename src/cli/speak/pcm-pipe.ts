// Raw PCM out of the process, for live listening: to stdout, for a player of
// the caller's choice, or into `aplay` (ALSA) or `play` (SoX) when one is on
// PATH. Writes wait for the reader, so a player sets the pace.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { once } from 'node:events';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { PcmSink } from './sink.js';

export interface Player {
  command: string;
  args: string[];
}

const PLAYERS: Player[] = [
  { command: 'aplay', args: ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', '48000', '-c', '1'] },
  { command: 'play', args: ['-q', '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-r', '48000', '-c', '1', '-'] },
];

/** The first of aplay, play found on `path` (a PATH value). */
export function findPlayer(path = process.env['PATH'] ?? ''): Player | undefined {
  for (const player of PLAYERS) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, player.command), constants.X_OK);
        return { ...player, command: join(dir, player.command) };
      } catch {
        // not in this directory
      }
    }
  }
  return undefined;
}

/** Writes to `stream`, waiting for it to drain; `stopped` aborts when its reader is gone, with the reason. */
function pipeSink(stream: Writable, finished: () => Promise<void>, stopped?: AbortSignal): PcmSink {
  let failure: Error | undefined;
  stream.on('error', (error) => (failure = error));
  return {
    kind: 'pcm',
    async write(pcm) {
      stopped?.throwIfAborted();
      if (failure) throw failure;
      if (stream.write(pcm)) return;
      try {
        await once(stream, 'drain', { signal: stopped });
      } catch (error) {
        stopped?.throwIfAborted();
        throw error;
      }
    },
    close: finished,
  };
}

export function stdoutSink(): PcmSink {
  return pipeSink(process.stdout, async () => {});
}

/** Starts the player; closing the sink ends its input and waits for it to finish playing. */
export function playerSink(player: Player): PcmSink {
  const child = spawn(player.command, player.args, { stdio: ['pipe', 'ignore', 'inherit'] });
  const stopped = new AbortController();
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => {
      stopped.abort(error);
      reject(error);
    });
    child.on('close', (code) => {
      const error = new Error(`${player.command} exited with code ${code}`);
      stopped.abort(error);
      if (code === 0) resolve();
      else reject(error);
    });
  });
  // Seen by close(); a player that dies earlier fails the next write instead.
  exited.catch(() => {});
  return pipeSink(
    child.stdin,
    async () => {
      child.stdin.end();
      await exited;
    },
    stopped.signal,
  );
}
