/**
 * Runs `work` unless work under the same `key` is running (then it returns at once); a failure
 * goes to `onError` with `what` (the caller retries at its next chance: a reconnect, a round).
 */
export async function onceAtATime(running: Set<string>, key: string, work: () => Promise<unknown>, onError: (error: unknown, what: string) => void, what: string): Promise<void> {
  if (running.has(key)) return;
  running.add(key);
  try {
    await work();
  } catch (error) {
    onError(error, what);
  } finally {
    running.delete(key);
  }
}
