// The layers a stack and its mixers are built from: linear maps and embeddings, the norms'
// reductions and GELU here, the fused ones (layer norm, bias + GELU, dropout) as kernels.
export { ONE_HOT_GRAD_MAX_VOCAB, embed, embedOneHotGrad, linear, variableFrom } from './layers/linear.js';
export { meanLastAxis, sumAll } from './layers/norm.js';
export { gelu } from './layers/pointwise.js';
export { addLayerNorm, addLayerNormReference, layerNorm, layerNormReference } from './kernels/layer-norm.js';
export { biasGelu, biasGeluReference } from './kernels/bias-gelu.js';
export { dropout, dropoutReference } from './kernels/dropout.js';
export { shiftTime } from './ops/shift.js';
