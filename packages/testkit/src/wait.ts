/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (measured from the call). */
  timeoutMs: number;
  /** Pause between attempts; default 50 ms. */
  intervalMs?: number;
  /** Error message on timeout; a function is called only then, so it can describe the final state. */
  message: string | (() => string);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `fn` until it returns (or resolves to) a truthy value and resolves to that value.
 * A throwing attempt counts as "not yet". On timeout it rejects with `message`, followed by the
 * last error `fn` threw, if any (also attached as `cause`).
 *
 * Note the test is truthiness: `0` and `''` count as "not yet" — wrap such values in an object.
 * An attempt that hangs past the deadline does not delay the timeout.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions,
): Promise<T> {
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  let hasError = false;
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      const outcome = await withDeadline(Promise.resolve().then(fn), Math.max(remaining, 0));
      if (outcome.done && outcome.value) return outcome.value;
    } catch (err) {
      lastError = err;
      hasError = true;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(deadline - Date.now(), 0)));
  }
  const base = typeof opts.message === 'function' ? opts.message() : opts.message;
  const suffix = hasError ? `\nlast error: ${describe(lastError)}` : '';
  const error = new Error(`waitFor timed out after ${opts.timeoutMs} ms: ${base}${suffix}`);
  if (hasError) (error as Error & { cause?: unknown }).cause = lastError;
  throw error;
}

type Outcome<T> = { done: true; value: T } | { done: false };

/** Races `promise` against a timer so that a hanging attempt cannot outlive the deadline. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value): Outcome<T> => ({ done: true, value })), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
