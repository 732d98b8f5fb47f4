/** Polling with a deadline: the only way the local stack and its tests wait for anything. */

export interface PollOptions {
  /** What is awaited, for the timeout message. */
  readonly what: string;
  /** Give up after this long. Default 30 s. */
  readonly timeoutMs?: number;
  /** Pause between attempts. Default 100 ms. */
  readonly intervalMs?: number;
}

/** Thrown by a check to stop polling at once (e.g. the process being awaited has exited). */
export class PollAbort extends Error {}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `check` until it returns a value other than `undefined`/`false`, and returns that value.
 * A throwing check counts as "not yet" (its last error is quoted in the timeout message), except
 * `PollAbort`, which ends the wait at once.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | false>,
  options: PollOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) {
        return result;
      }
    } catch (error) {
      if (error instanceof PollAbort) {
        throw error;
      }
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}${reason}`);
    }
    await delay(intervalMs);
  }
}
