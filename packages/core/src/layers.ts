// The layers a stack and its mixers are built from, one file per concern under layers/.
export { ADD_LAYER_NORM_KERNEL, BIAS_GELU_KERNEL, DROPOUT_KERNEL, LAYER_NORM_KERNEL } from './kernels/names.js';
export { ONE_HOT_GRAD_MAX_VOCAB, embed, embedOneHotGrad, linear, variableFrom } from './layers/linear.js';
export { addLayerNorm, addLayerNormReference, layerNorm, layerNormReference, meanLastAxis, sumAll } from './layers/norm.js';
export { biasGelu, biasGeluReference, dropout, dropoutReference, gelu } from './layers/pointwise.js';
export { shiftTime } from './ops/shift.js';
