// The opening every command shares: parse the options, or print the help (exit 0)
// or the usage error (exit 2) and stop.

export type Parsed<T> = { options: T } | { exit: number };

/**
 * `parse` returns null (or undefined) when --help was asked for and throws an
 * error that `isUsageError` accepts for options it refuses.
 */
export function commandOptions<T>(command: string, help: string, parse: () => T | null | undefined, isUsageError: (error: unknown) => boolean): Parsed<T> {
  let options: T | null | undefined;
  try {
    options = parse();
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`emomix ${command}: ${(error as Error).message}\n(see emomix ${command} --help)\n`);
    return { exit: 2 };
  }
  if (options === null || options === undefined) {
    process.stdout.write(`${help}\n`);
    return { exit: 0 };
  }
  return { options };
}
