import { exportCheckpoint } from '@shiftmix/onnx';
import { openCheckpoint } from '../checkpoint.js';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { CHECKPOINT_FLAG } from './shared.js';
import { requireOutputDir } from '../run-folder.js';

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Export a trained model to ONNX (full-sequence and decode-step graphs)',
  usage: 'export --checkpoint DIR --out DIR [--opset N]',
  details:
    "Writes model.onnx (token ids [B, T] -> logits), decode.onnx (one step with the mixers' state) and model.json (manifest and tokenizer), for onnxruntime and the web demo.",
  flags: {
    ...CHECKPOINT_FLAG,
    out: { type: 'string', required: true, placeholder: 'DIR', description: 'Directory to write the ONNX files to' },
    opset: { type: 'number', integer: true, min: 1, default: 17, description: 'ONNX opset (17 to 21)' },
    json: { type: 'boolean', description: 'Print the written files as one JSON object' },
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: ['shiftmix export --checkpoint runs/hsm --out web/model', 'shiftmix export --checkpoint runs/hybrid/best --out onnx/hybrid --opset 18'],
  async run(flags, { io }) {
    // Checked before the checkpoint is loaded, so a bad --out costs nothing and writes nothing.
    const outDir = requireOutputDir(flags.out, io.cwd, '--out');
    const { model, tokenizer } = await openCheckpoint(flags.checkpoint, io, { plugins: flags.plugin, backend: 'cpu' });
    try {
      const written = await exportCheckpoint(model, tokenizer, outDir, { opset: flags.opset });
      if (flags.json) {
        io.stdout(`${JSON.stringify({ files: written.files })}\n`);
      } else {
        io.stdout(`wrote ${Object.values(written.files).join(', ')}\n`);
      }
    } finally {
      model.dispose();
    }
  },
});
