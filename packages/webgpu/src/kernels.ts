import { registerAddNKernel } from './add-n.js';
import { registerMatMulKernels } from './matmul/register.js';

// Each of these files implements its fused kernels of @shiftmix/core/kernels under webgpu
// when it is imported (KERNEL.implement): one line here per file adds them to the package.
import './adamw.js';
import './attention/kernel.js';
import './bias-gelu.js';
import './cross-entropy.js';
import './dropout.js';
import './fusion-blend.js';
import './hsm-ab.js';
import './layer-norm.js';
import './layer-norm-grad.js';

export { WEBGPU_BACKEND } from './runtime.js';

/**
 * Replaces the tfjs kernels this package does better (idempotent): BatchMatMul and
 * _FusedMatMul with the register-tiled matmul, AddN in chunks.
 */
export function registerReplacedKernels(): void {
  registerMatMulKernels();
  registerAddNKernel();
}
