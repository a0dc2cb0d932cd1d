import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.js';
import { withoutAddedErrorHandlers } from './process-handlers.js';

const events = ['uncaughtException', 'unhandledRejection'] as const;
const emitter: NodeJS.EventEmitter = process;
const snapshot = () => events.map((event) => emitter.listeners(event).length);

describe('process-wide error handlers', () => {
  // This file must be the first in its process to start wasm: the runtime installs its
  // handlers once, when the backend is first created.
  it('are left as they were by starting the wasm backend', async () => {
    const before = snapshot();
    await selectBackend('wasm');
    expect(snapshot()).toEqual(before);
  });

  it('added while starting something are removed, and those there before are kept', async () => {
    const mine = (): void => {};
    process.on('uncaughtException', mine);
    try {
      const before = snapshot();
      const result = await withoutAddedErrorHandlers(async () => {
        process.on('uncaughtException', () => {});
        process.on('unhandledRejection', () => {});
        return 42;
      });
      expect(result).toBe(42);
      expect(snapshot()).toEqual(before);
      expect(process.listeners('uncaughtException')).toContain(mine);
    } finally {
      process.off('uncaughtException', mine);
    }
  });
});
