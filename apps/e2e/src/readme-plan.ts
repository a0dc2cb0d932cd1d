/**
 * How the tests run each command of the READMEs (sh blocks of the repository README and of
 * every published package's README). A README command that has no plan here fails the
 * test, and so does a plan whose command left the READMEs: the two cannot drift apart.
 *
 * Commands run as written. Where one would train for minutes, `append` adds flags that cut
 * the work; the CLI takes the last value of a repeated flag, so the README's own flags are
 * still all parsed and used, only the step count or preset changes.
 */
export interface CommandPlan {
  /**
   * repository: in the repository's root. clone: in a new folder that sees the repository's
   * node_modules and benchmarks/ (a fresh clone's view, written elsewhere). project: in a
   * project outside the repository where the packed packages are installed.
   */
  where: 'repository' | 'clone' | 'project';
  append?: string;
  /** Run this instead, for the reason given (a command that would leave the test's machine). */
  instead?: { command: string; why: string };
  /** A command no test can run as such, and what does the same in the test suite. */
  coveredBy?: string;
  /** What its standard output shows. */
  stdout?: RegExp;
}

const STEPS = ' --steps 2 --eval-every 2 --eval-batches 1';

// The queue's commands name a Redis on another machine; the queue tests run the same
// commands as processes against a redis-server they start on a free localhost port.
const QUEUE_TEST =
  'packages/cli/src/queue.test.ts: shiftmix bench --queue (following, Ctrl-C, --collect) and shiftmix worker processes, one killed mid-run, on a password-protected redis-server that is killed and restarted';

export const PLANS: Record<string, Record<string, CommandPlan>> = {
  'README.md': {
    'npm start': { where: 'repository', append: ' -- --only decode', stdout: /## decode \(decode\)/ },
    'npm start -- --preset smoke': { where: 'repository', stdout: /## lm-char[\s\S]*## mqar[\s\S]*## scaling[\s\S]*## decode/ },
    'npm test': { where: 'repository', coveredBy: '.ci/run runs it on a fresh clone: it is the command that runs these tests' },
    'npx shiftmix train --data benchmarks/data/tinyshakespeare.txt --layers "hsm-ab*4" --ctx 64 --out runs/hsm': {
      where: 'clone',
      append: ' --steps 20 --eval-every 10 --eval-batches 2',
      stdout: /trained step 20 on wasm/,
    },
    'npx shiftmix generate --checkpoint runs/hsm --prompt "ROMEO:" --tokens 200 --temperature 0.8 --top-k 20': { where: 'clone', stdout: /^ROMEO:/ },
    'npx shiftmix export --checkpoint runs/hsm --out exported/hsm': { where: 'clone', stdout: /model\.onnx/ },
    'npx shiftmix mixers': { where: 'clone', stdout: /^hsm-ab +@shiftmix\/mixer-hsm-ab/m },
    'npx shiftmix train --data benchmarks/data/tinyshakespeare.txt --tokenizer gpt2 --layers "hsm-ab*4" --ctx 64 --out runs/hsm-bpe': {
      where: 'clone',
      append: ' --steps 4 --eval-every 2 --eval-batches 1',
      stdout: /trained step 4 on wasm[\s\S]*bpb\)/,
    },
    'npx shiftmix tokenize --data benchmarks/data/tinyshakespeare.txt --out runs/shakespeare.bin': {
      where: 'clone',
      stdout: /wrote runs\/shakespeare\.bin \(338,025 tokens, llmc\) and runs\/shakespeare\.tokenizer\.json/,
    },
    'npx shiftmix train --data runs/shakespeare.bin --layers "hsm-ab*4" --ctx 64 --out runs/hsm-tokens': {
      where: 'clone',
      append: ' --steps 4 --eval-every 2 --eval-batches 1',
      stdout: /trained step 4 on wasm/,
    },
    'npx shiftmix bench --only lm-char --preset cpu': {
      where: 'clone',
      append: ' --preset smoke --out runs/readme-cpu',
      stdout: /\| gpt \|[\s\S]*\| hsm-ab-last-attn \|/,
    },
    'node apps/bench/dist/cpu/vs-torch.js --models gpt,hsm-ab': {
      where: 'repository',
      append: ' --steps 2 --warmup 1 --rounds 1',
      stdout: /hsm-ab +1 +planned +[\d.]+ +- +-/,
    },
  },
  'packages/bench/README.md': {
    'npx shiftmix bench --preset smoke': { where: 'project', stdout: /## lm-char[\s\S]*## decode/ },
    'npx shiftmix bench': { where: 'project', append: ' --only decode', stdout: /## decode \(decode\)/ },
    'npx shiftmix bench --only lm-char --models gpt,hsm-ab': { where: 'project', append: ' --preset smoke', stdout: /\| gpt \|[\s\S]*\| hsm-ab \|/ },
    'npx shiftmix bench --suite ./my-suite.json --plugin ./my-mixer.js --only lm-char': { where: 'project', stdout: /\| my-mixer \| my-mixer,hsm-ab\*2 \|/ },
    'redis-server --port 6379 --bind 0.0.0.0 --requirepass "$SHIFTMIX_REDIS_PASSWORD" --appendonly yes': {
      where: 'project',
      coveredBy: 'packages/cli/src/test-redis.ts starts redis-server so (a password, an append-only file) for the queue tests',
    },
    'npx shiftmix bench --preset standard --backend webgpu --queue redis://:PASSWORD@queue-host:6379': { where: 'project', coveredBy: QUEUE_TEST },
    'npx shiftmix worker --queue redis://:PASSWORD@queue-host:6379 --backend webgpu': { where: 'project', coveredBy: QUEUE_TEST },
    'npx shiftmix bench --preset standard --backend webgpu --queue redis://:PASSWORD@queue-host:6379 --collect': { where: 'project', coveredBy: QUEUE_TEST },
    'npx shiftmix bench --preset standard --shard 1/2 --out shard-1': { where: 'project', append: ' --preset smoke', stdout: /report: \S*shard-1\/README\.md/ },
    'npx shiftmix bench --preset standard --shard 2/2 --out shard-2': { where: 'project', append: ' --preset smoke', stdout: /report: \S*shard-2\/README\.md/ },
    // Every run of the suite is in one of the two shards: the merged report has all four benchmarks and nothing missing.
    'npx shiftmix bench --preset standard --merge shard-1 --merge shard-2 --out merged': {
      where: 'project',
      append: ' --preset smoke',
      stdout: /^(?![\s\S]*without a result)[\s\S]*## lm-char[\s\S]*## mqar[\s\S]*## scaling[\s\S]*## decode[\s\S]*report: \S*merged\/README\.md/,
    },
  },
  'packages/cli/README.md': {
    'npm install -g shiftmix': {
      where: 'project',
      instead: { command: 'npx shiftmix --help', why: 'the package is installed from its packed tarball, not the registry; npx finds it as the README says' },
      stdout: /Usage: shiftmix <command>/,
    },
    'npm install -g @shiftmix/webgpu': {
      where: 'project',
      instead: {
        command: `node --input-type=module -e "await import('@shiftmix/webgpu'); console.log('webgpu loads')"`,
        why: 'the package is installed from its packed tarball, not the registry; the project can import it',
      },
      stdout: /webgpu loads/,
    },
    'shiftmix mixers': { where: 'project', stdout: /^NAME +PACKAGE +SHIFT +PARAMS@D=384/ },
    'shiftmix mixers --dim 128 --json': { where: 'project', stdout: /^\{"dim":128,"heads":4,"contextLength":256,"mixers":\[/ },
    'shiftmix train --data input.txt --layers "hsm-ab*4" --ctx 64 --out runs/hsm': { where: 'project', append: STEPS },
    'shiftmix train --data input.txt --layers "hsm-ab*2,softmax-attention,hsm-ab*2" --out runs/hybrid --dim 256 --heads 4 --ctx 256 --batch 32 --steps 2000 --dropout 0.1':
      {
        where: 'project',
        append: STEPS,
      },
    'shiftmix train --data input.txt --layers "softmax-attention*4" --out runs/gpt --mixer-option softmax-attention.window=64 --mixer-option softmax-attention.rope=true':
      {
        where: 'project',
        append: STEPS,
      },
    'shiftmix resume --out runs/hsm --steps 5000': { where: 'project', append: ' --steps 4', stdout: /trained step 4 / },
    'shiftmix generate --checkpoint runs/hsm --prompt "ROMEO:" --tokens 500 --temperature 0.8 --top-k 40': { where: 'project', stdout: /^ROMEO:/ },
    'shiftmix eval --checkpoint runs/hsm --data valid.txt --json': { where: 'project', stdout: /"bitsPerToken":/ },
    'shiftmix export --checkpoint runs/hsm --out web/model --opset 17': { where: 'project' },
    'shiftmix train --plugin ./my-mixer.js --layers "my-mixer,hsm-ab*2" --ctx 64 --data input.txt --out runs/mine': { where: 'project', append: STEPS },
    'echo \'{ "plugins": ["./my-mixer.js"] }\' > shiftmix.config.json': { where: 'project' },
    'shiftmix bench --preset smoke': { where: 'project', stdout: /## lm-char[\s\S]*## decode/ },
    'shiftmix bench --only lm-char --models gpt,hsm-ab': { where: 'project', append: ' --preset smoke' },
    'shiftmix bench --only scaling --json': { where: 'project', append: ' --preset smoke', stdout: /"scaling"/ },
    'shiftmix bench --preset standard --backend webgpu --queue redis://:PASSWORD@queue-host:6379': { where: 'project', coveredBy: QUEUE_TEST },
    'shiftmix worker --queue redis://:PASSWORD@queue-host:6379 --backend webgpu': { where: 'project', coveredBy: QUEUE_TEST },
  },
};
