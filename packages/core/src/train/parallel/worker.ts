import { parentPort } from 'node:worker_threads';
import { activeBackend, selectBackend } from '../../backend.js';
import { isShiftmixError } from '../../errors.js';
import { registerMixerModule } from '../../plugins/module.js';
import { ShiftmixModel } from '../../model/model.js';
import { tf } from '../../tf.js';
import { TrainStepper } from '../stepper.js';
import { assignFlat, flatLayout, readFlat, weightedSum, writeFlat, type FlatLayout } from './flat.js';
import type { ApplyMessage, FromWorker, InitMessage, StepMessage, ToWorker } from './protocol.js';

// One replica of a ParallelStepper: it builds the same model, computes the gradient of its
// rows of each batch, and applies the same combined update as every other replica, so the
// weights stay equal without being copied after each step.

interface Replica {
  model: ShiftmixModel;
  stepper: TrainStepper;
  layout: FlatLayout;
  shared: { weights: Float32Array; m: Float32Array; v: Float32Array };
  /** Gradient slots of each phase. */
  slots: Float32Array[][];
  combined: Float32Array;
}

let replica: Replica | undefined;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

async function init(msg: InitMessage): Promise<void> {
  for (const m of msg.modules) await registerMixerModule((await import(/* @vite-ignore */ m)) as Record<string, unknown>, m);
  await selectBackend(msg.backend);
  activeBackend().threads?.set(msg.blasThreads);
  const model = ShiftmixModel.create(msg.config);
  const layout = flatLayout(model.weights());
  const { weights, m, v, grads } = msg.buffers;
  const participants = grads.byteLength / (2 * layout.size * 4);
  replica = {
    model,
    stepper: new TrainStepper(model, msg.recipe),
    layout,
    shared: { weights: new Float32Array(weights), m: new Float32Array(m), v: new Float32Array(v) },
    slots: [0, 1].map((phase) =>
      Array.from({ length: participants }, (_, i) => new Float32Array(grads, (phase * participants + i) * layout.size * 4, layout.size)),
    ),
    combined: new Float32Array(layout.size),
  };
  post({ type: 'ready', size: layout.size });
}

function step(msg: StepMessage, slot: number): void {
  const r = replica!;
  if (msg.sync) {
    assignFlat(r.layout, r.model.weights(), r.shared.weights);
    r.stepper.optimizer.setState({ step: msg.sync.optimizerStep, m: readFlat(r.layout, r.shared.m), v: readFlat(r.layout, r.shared.v) });
  }
  r.model.rng.state = msg.rngState;
  const length = msg.x.length / msg.rows;
  const x = tf.tensor2d(msg.x, [msg.rows, length], 'int32');
  const y = tf.tensor2d(msg.y, [msg.rows, length], 'int32');
  const { loss, grads } = r.stepper.gradients(x, y);
  writeFlat(r.layout, grads, r.slots[msg.phase][slot]);
  const value = loss.dataSync()[0];
  tf.dispose([x, y, loss, ...grads.values()]);
  post({ type: 'grads', loss: value, count: msg.y.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0) });
}

async function apply(msg: ApplyMessage): Promise<void> {
  const r = replica!;
  weightedSum(r.slots[msg.phase], msg.weights, r.combined);
  await r.stepper.apply(readFlat(r.layout, r.combined), tf.scalar(msg.loss), msg.step);
}

let slot = 0;
// Messages are handled one at a time, in order: an apply finishes before the next step.
let queue = Promise.resolve();
port.on('message', (msg: ToWorker) => {
  queue = queue.then(async () => {
    try {
      if (msg.type === 'init') {
        slot = msg.slot;
        await init(msg);
      } else if (msg.type === 'step') step(msg, slot);
      else if (msg.type === 'apply') await apply(msg);
      else if (msg.type === 'share') {
        writeFlat(replica!.layout, replica!.model.weights(), replica!.shared.weights);
        post({ type: 'shared' });
      } else {
        replica?.stepper.optimizer.dispose();
        replica?.model.dispose();
        port.close();
      }
    } catch (error) {
      const e = error as Error;
      post(
        isShiftmixError(error)
          ? { type: 'error', message: error.problem, fix: error.fix, code: error.code }
          : { type: 'error', message: e.message ?? String(e) },
      );
    }
  });
});
