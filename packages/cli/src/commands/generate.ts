import { generate } from '@shiftmix/core';
import { openCheckpoint } from '../checkpoint.js';
import { COMMON_FLAGS, defineCommand, PLUGIN_FLAGS } from '../command.js';
import { BACKEND_FLAG, CHECKPOINT_FLAG } from './shared.js';

export const generateCommand = defineCommand({
  name: 'generate',
  summary: 'Continue a prompt with a trained model, streaming the text',
  usage: 'generate --checkpoint DIR --prompt TEXT --tokens N [flags]',
  details:
    'DIR is a train --out directory (its best/ checkpoint is used) or a checkpoint folder. The prompt is printed, then each new character as it is sampled.',
  flags: {
    ...CHECKPOINT_FLAG,
    prompt: { type: 'string', required: true, placeholder: 'TEXT', description: 'Text to continue (characters the model was trained on)' },
    tokens: { type: 'number', integer: true, min: 0, required: true, placeholder: 'N', description: 'Number of tokens to generate' },
    temperature: { type: 'number', min: 0, default: 1, description: 'Sampling temperature (0: greedy)' },
    topK: { type: 'number', integer: true, min: 0, default: 0, description: 'Sample among the K most likely tokens (0: all)' },
    seed: { type: 'number', integer: true, min: 0, default: 0, description: 'Sampling seed; the same seed gives the same text' },
    noPrompt: { type: 'boolean', description: 'Print only the continuation, not the prompt' },
    ...BACKEND_FLAG,
    ...PLUGIN_FLAGS,
    ...COMMON_FLAGS,
  },
  examples: [
    'shiftmix generate --checkpoint runs/hsm --prompt "ROMEO:" --tokens 500',
    'shiftmix generate --checkpoint runs/hsm/last --prompt "\\n" --tokens 200 --temperature 0.8 --top-k 40 --seed 7',
  ],
  async run(flags, { io }) {
    const { model, tokenizer } = await openCheckpoint(flags.checkpoint, io, { plugins: flags.plugin, backend: flags.backend });
    try {
      // The prompt is printed with the first token, so a prompt the model rejects prints nothing.
      let started = false;
      const start = (): void => {
        if (!started && !flags.noPrompt) io.stdout(flags.prompt);
        started = true;
      };
      await generate(model, tokenizer, {
        prompt: flags.prompt,
        maxTokens: flags.tokens,
        temperature: flags.temperature,
        topK: flags.topK,
        seed: flags.seed,
        onToken: (text) => {
          start();
          io.stdout(text);
        },
      });
      start();
      io.stdout('\n');
    } finally {
      model.dispose();
    }
  },
});
