const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `start` and then removes the process-wide error handlers it added.
 * tfjs-backend-wasm's Emscripten runtime installs handlers that rethrow every uncaught
 * error, so a mistake in the user's own script would be reported as a crash inside the
 * wasm backend and end the process with code 7 instead of Node's usual report and code 1.
 */
export async function withoutAddedErrorHandlers<T>(start: () => Promise<T>): Promise<T> {
  if (typeof process === 'undefined' || typeof process.listeners !== 'function') return start();
  // Seen as a plain emitter: Node's typings list each event's listeners separately.
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  try {
    return await start();
  } finally {
    for (const event of EVENTS) {
      for (const listener of emitter.listeners(event)) {
        if (!before.get(event)!.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}
