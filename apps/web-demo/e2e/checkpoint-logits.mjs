// The logits of a checkpoint for a prompt, computed in Node from the built packages, as
// the CLI loads a checkpoint: what the Train page's window.trainLogits(prompt) gives for
// the same checkpoint. Prints one JSON line: { step, layers, logits: [T][vocab] }.
//
//   node e2e/checkpoint-logits.mjs CHECKPOINT_DIR PROMPT [BACKEND]
import { CharTokenizer, loadCheckpoint, selectBackend, tf } from '@shiftmix/core';
import { register as registerHsmAb } from '@shiftmix/mixer-hsm-ab';
import { register as registerFusion } from '@shiftmix/mixer-learned-fusion';
import { register as registerAttention } from '@shiftmix/mixer-softmax-attention';

const [dir, prompt, backend = 'cpu'] = process.argv.slice(2);
if (!dir || prompt === undefined) {
  console.error('usage: node e2e/checkpoint-logits.mjs CHECKPOINT_DIR PROMPT [BACKEND]');
  process.exit(2);
}
await selectBackend(backend);
registerHsmAb();
registerFusion();
registerAttention();
const { model, tokenizer, state, config } = await loadCheckpoint(dir);
const ids = Array.from(CharTokenizer.fromJSON(tokenizer).encode(prompt));
const out = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32'), { training: false }));
const [logits] = await out.array();
process.stdout.write(`${JSON.stringify({ step: state.step, layers: config.model.layers, logits })}\n`);
