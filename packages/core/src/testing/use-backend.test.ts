import { describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { useBackend } from './index.js';

describe('useBackend', () => {
  describe('in a describe', () => {
    useBackend('wasm');

    it('selects the backend before its tests', () => {
      expect(tf.getBackend()).toBe('wasm');
    });
  });

  it('goes back to cpu after them', () => {
    expect(tf.getBackend()).toBe('cpu');
  });

  it('says where to call it outside a vitest run', () => {
    const saved = process.env.VITEST;
    delete process.env.VITEST;
    try {
      expect(() => useBackend('cpu')).toThrow(/useBackend was called outside a vitest run\. Call it from a \*\.test\.ts file/);
    } finally {
      process.env.VITEST = saved;
    }
  });
});
