import { packedAttentionCheck, unpackedAttentionCheck, type AttentionCaseVariant, type ParityCheck } from '@shiftmix/core/kernels';
import { EXTRA_ATTENTION_BLOCKS, attentionTuning, type AttentionTiles } from '../attention/tiles.js';

// The attention kernels' checks of this package's own, beside the ones core's kernel
// objects carry: blocks the device would not pick by itself.

// 16 x 16 blocks for every kernel, so T = 70 spans several blocks with a ragged last one.
const SMALL_TILES: AttentionTiles = { forward: { bq: 16, bk: 16 }, keyGrad: { bk: 16, bq: 16 }, queryGrad: { bq: 16, bk: 16 } };
// The shapes only tuneAttentionTiles picks, which must hold on every driver too.
const EXTRA_TILES: AttentionTiles = {
  forward: EXTRA_ATTENTION_BLOCKS.forward[0],
  keyGrad: EXTRA_ATTENTION_BLOCKS.keyGrad[0],
  queryGrad: EXTRA_ATTENTION_BLOCKS.queryGrad[0],
};

/** Runs a check with these blocks, then gives the kernels back their own choice. */
function withTiles(tiles: AttentionTiles): AttentionCaseVariant {
  const { forward: f, keyGrad: g, queryGrad: q } = tiles;
  return {
    label: `blocks ${f.bq}x${f.bk}, ${g.bk}x${g.bq}, ${q.bq}x${q.bk}`,
    around(fn) {
      attentionTuning.tiles = tiles;
      try {
        return fn();
      } finally {
        attentionTuning.tiles = undefined;
      }
    },
  };
}

export const attentionTileChecks = (): ParityCheck[] => [
  unpackedAttentionCheck({ batch: 1, heads: 1, length: 70, hd: 20, window: 19 }, withTiles(SMALL_TILES)),
  unpackedAttentionCheck({ batch: 1, heads: 2, length: 83, hd: 12 }, withTiles(EXTRA_TILES)),
  packedAttentionCheck({ batch: 1, heads: 1, length: 70, hd: 16 }, withTiles(SMALL_TILES)),
  packedAttentionCheck({ batch: 1, heads: 2, length: 70, hd: 5, window: 5 }, withTiles(SMALL_TILES)),
  packedAttentionCheck({ batch: 1, heads: 2, length: 70, hd: 8, window: 19, dropout: 0.3 }, withTiles(SMALL_TILES)),
];
