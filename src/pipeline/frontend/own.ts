/**
 * A table entry looked up by text from the input, never reaching the object
 * prototype: a plain `table[key]` for the word "constructor" returns a function.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
