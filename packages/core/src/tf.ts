// The whole project runs on one tfjs engine instance: mixers and plugins take `tf` from
// here rather than import tfjs themselves.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node build registers neither the gradients nor the chained ops (x.add(y));
// they ship only as per-file ES modules, which the build bundles into dist/ (as the
// @tensorflow/tfjs union's own Node build does) and vitest inlines.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
// The pure-JS reference backend, always present (the wasm backend also builds on it).
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

// Production mode: skips tfjs's debug checks and its suggestion to install tfjs-node,
// which shiftmix detects and explains itself (see selectBackend).
tf.env().set('PROD', true);

// The cpu backend registers itself when its module loads, but its package.json leaves its
// Node build out of "sideEffects", so a bundler (esbuild, webpack) drops a bare import of
// it. Naming the backend's class keeps the module, and registers it should it not have.
if (!tf.findBackendFactory('cpu')) tf.registerBackend('cpu', () => new MathBackendCPU(), 1);

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor3D = tf.Tensor3D;
export type Variable = tf.Variable;
