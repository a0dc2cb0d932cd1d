import { parentPort } from 'node:worker_threads';
import { selectBackend } from '../../backend.js';
import { nativeKernels } from '../../backends/native.js';
import { isShiftmixError } from '../../errors.js';
import { ShiftmixModel } from '../../model/model.js';
import { tf, type Tensor } from '../../tf.js';
import { flatLayout, assignFlat, writeFlat, type FlatLayout } from './flat.js';
import type { FromWorker, InitMessage, StepMessage, ToWorker } from './protocol.js';
import { registerFromModule } from './register-modules.js';

// One replica of a ParallelStepper: it builds the same model, takes the weights the main
// thread shares after each update, and returns the gradient of its rows of each batch.

interface Replica {
  model: ShiftmixModel;
  layout: FlatLayout;
  weights: Float32Array;
  grads: Float32Array;
  // tfjs variable name -> weight name
  names: Map<string, string>;
}

let replica: Replica | undefined;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

async function init(msg: InitMessage): Promise<void> {
  for (const m of msg.modules) await registerFromModule(m);
  await selectBackend(msg.backend);
  nativeKernels()?.setBlasThreads(msg.blasThreads);
  const model = ShiftmixModel.create(msg.config);
  const weights = model.weights();
  const layout = flatLayout(weights);
  replica = {
    model,
    layout,
    weights: new Float32Array(msg.weights),
    grads: new Float32Array(msg.grads, msg.slot * layout.size * 4, layout.size),
    names: new Map([...weights].map(([name, v]) => [v.name, name])),
  };
  post({ type: 'ready', size: layout.size });
}

function step(msg: StepMessage): void {
  const r = replica!;
  const weights = r.model.weights();
  if (msg.syncWeights) assignFlat(r.layout, weights, r.weights);
  r.model.rng.state = msg.rngState;
  const length = msg.x.length / msg.rows;
  const x = tf.tensor2d(msg.x, [msg.rows, length], 'int32');
  const y = tf.tensor2d(msg.y, [msg.rows, length], 'int32');
  const { value, grads } = tf.variableGrads(() => r.model.loss(x, y, { training: true }), [...weights.values()]);
  const named = new Map<string, Tensor | null>(Object.entries(grads).map(([k, g]) => [r.names.get(k)!, g]));
  writeFlat(r.layout, named, r.grads);
  const loss = value.dataSync()[0];
  tf.dispose([x, y, value, ...Object.values(grads)]);
  post({ type: 'grads', loss, count: msg.y.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0) });
}

port.on('message', (msg: ToWorker) => {
  const run = async () => {
    if (msg.type === 'init') await init(msg);
    else if (msg.type === 'step') step(msg);
    else {
      replica?.model.dispose();
      port.close();
    }
  };
  run().catch((error: unknown) => {
    const e = error as Error;
    post(isShiftmixError(error) ? { type: 'error', message: error.problem, fix: error.fix, code: error.code } : { type: 'error', message: e.message ?? String(e) });
  });
});
