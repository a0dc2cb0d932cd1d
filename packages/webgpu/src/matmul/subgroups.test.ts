import { isShiftmixError, tf } from '@shiftmix/core';
import { useBackend } from '@shiftmix/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webGpuDevice } from '../backend.js';
import { requestGpuAdapter, requestGpuDevice } from '../device.js';
import { makeShaderSource } from '../runtime.js';
import { MATMUL_TILES, MatMulProgram, SUBGROUP_TILES, matMulTuning, tilesFor, type MatMulTile } from './index.js';
import { tileIsValid } from './program.js';

// A tile whose rows are 4 threads wide: the shuffle path runs on 4-lane subgroups too.
const NARROW: MatMulTile = { bm: 32, bn: 16, bk: 16, tm: 4, tn: 4, subgroups: true };

let nullDevice: GPUDevice;

useBackend('webgpu');
beforeAll(async () => {
  // Dawn's null device runs nothing but validates shaders like any other, and offers subgroups.
  nullDevice = await requestGpuDevice((await requestGpuAdapter({ backend: 'null' })).adapter);
  expect(nullDevice.features.has('subgroups')).toBe(true);
});

afterAll(() => nullDevice?.destroy());

const defaults = { ...matMulTuning };
afterEach(() => Object.assign(matMulTuning, defaults));

async function validate(program: MatMulProgram): Promise<string[]> {
  const module = nullDevice.createShaderModule({ code: makeShaderSource(program) });
  const messages = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error').map((m) => m.message);
  nullDevice.pushErrorScope('validation');
  nullDevice.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: '_start' } });
  const error = await nullDevice.popErrorScope();
  return error ? [...messages, error.message] : messages;
}

describe('subgroup matmul tiles', () => {
  it('are the default tiles whose k block holds whole rounds of a row of threads', () => {
    expect(SUBGROUP_TILES.length).toBeGreaterThan(0);
    for (const { subgroups, ...shape } of SUBGROUP_TILES) {
      expect(subgroups).toBe(true);
      expect(tileIsValid({ ...shape, subgroups })).toBe(true);
      expect(MATMUL_TILES).toContainEqual(shape);
    }
    // Rows of 64 / 4 = 16 threads: a k block of 8 is not a whole round of them.
    expect(tileIsValid({ bm: 64, bn: 64, bk: 8, tm: 8, tn: 4 })).toBe(true);
    expect(tileIsValid({ bm: 64, bn: 64, bk: 8, tm: 8, tn: 4, subgroups: true })).toBe(false);
  });

  it('compile to valid shaders for every transpose and store path', async () => {
    const tiles = tilesFor(nullDevice.limits, [...SUBGROUP_TILES, NARROW], nullDevice.features);
    expect(tiles.length).toBeGreaterThan(2);
    for (const tile of tiles) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        for (const n of [64, 30]) {
          const program = new MatMulProgram(
            { batch: 2, m: 70, n, k: 37, transposeA: ta, transposeB: tb, broadcastA: false, broadcastB: false, outer: [2] },
            tile,
          );
          expect(program.shaderKey).toMatch(/sg_/);
          expect(await validate(program), program.shaderKey).toEqual([]);
        }
      }
    }
  });

  it('are left out where the device has no subgroups, and refused if forced there', async () => {
    const device = webGpuDevice()!;
    const withSubgroups = new Set(['subgroups']);
    expect(tilesFor(nullDevice.limits, SUBGROUP_TILES, withSubgroups).length).toBeGreaterThan(0);
    expect(tilesFor(nullDevice.limits, SUBGROUP_TILES, new Set())).toEqual([]);
    // Mesa's GLES adapter (CI) offers no subgroups.
    if (!device.features.has('subgroups')) {
      expect(tilesFor(device.limits, [...MATMUL_TILES, ...SUBGROUP_TILES], device.features)).toEqual(tilesFor(device.limits, MATMUL_TILES, device.features));
      Object.assign(matMulTuning, { minRows: 1, minColumns: 1, minBlocks: 0, forceTile: NARROW });
      let caught: unknown;
      try {
        tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dispose();
      } catch (error) {
        caught = error;
      }
      expect(isShiftmixError(caught) && /subgroup matmul tile was chosen, but this device has no subgroups/.test((caught as Error).message)).toBe(true);
    }
  });
});
