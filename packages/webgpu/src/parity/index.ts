// @shiftmix/webgpu/parity: every fused kernel against its reference, as data. The same
// list runs in Node (this package's tests and the GPU bundle's kernel-parity script) and
// in the browser (apps/web-demo/kernels.html). The model check needs the hsm-ab and
// softmax-attention mixers registered first.
// Importing the checks registers the kernels they check, as importing the package does.
import '../index.js';

export { allChecks, runChecks } from './checks.js';
export { gradPairs, normal, runCheck, type Compared, type ParityCheck, type ParityResult } from '@shiftmix/core/kernels';
