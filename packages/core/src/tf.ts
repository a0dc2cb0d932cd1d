// The whole project runs on one tfjs engine instance. Node resolves the bundle's CommonJS
// build, which also registers every gradient (tfjs-core's per-file ESM does not load in
// Node), so mixers and plugins must take `tf` from here rather than import tfjs themselves.
import * as tf from '@tensorflow/tfjs';

// Production mode: skips tfjs's debug checks and its suggestion to install tfjs-node,
// which shiftmix detects and explains itself (see selectBackend).
tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor3D = tf.Tensor3D;
export type Variable = tf.Variable;
