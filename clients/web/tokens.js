// Text sent the way an LLM streams it: short tokens, each with its leading
// space, at a steady rate that may change while it runs.

/**
 * Words with their leading whitespace; long words in pieces of at most four
 * characters, as subword tokenizers cut them.
 * @param {string} text
 * @returns {string[]}
 */
export function tokenize(text) {
  return text.match(/\s*\S{1,4}/g) ?? [];
}

/**
 * Sends the tokens one by one, `rate()` per second, until done or aborted.
 * @param {string[]} tokens
 * @param {() => number} rate
 * @param {(token: string) => void} send
 * @param {AbortSignal} signal
 */
export async function sendPaced(tokens, rate, send, signal) {
  for (const [i, token] of tokens.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000 / Math.max(1, rate())));
    if (signal.aborted) return;
    send(token);
  }
}
