// SPDX-License-Identifier: GPL-3.0-or-later
// Keras reference cases for the normalisation family (engine/layers/weft-layers-norm.c),
// in inference mode (moving statistics). See make-reference.mjs for the format.
// Batch statistics in training mode and the moving-average update are checked by hand in
// tests/test-engine-recurrent.c.

const size = (shape) => shape.reduce((a, b) => a * b, 1);
// Variances must be positive; gamma around 1 so that the normalisation itself shows.
const normWeight = (name, shape, rand) => Array.from({ length: size(shape) }, () => {
  if (name === 'moving_variance')
    return 0.2 + 2 * rand();
  if (name === 'gamma')
    return 0.5 + rand();
  return 2 * rand() - 1;
});

export const cases = [
  { name: 'batch-norm-vector', inputShape: [4], batch: 3, weight: normWeight,
    layer: (tf) => tf.layers.batchNormalization({}) },
  { name: 'batch-norm-image', inputShape: [3, 2, 3], weight: normWeight,
    layer: (tf) => tf.layers.batchNormalization({ axis: -1 }) },
  { name: 'batch-norm-no-center-eps', inputShape: [3, 2], weight: normWeight,
    layer: (tf) => tf.layers.batchNormalization({ center: false, epsilon: 0.01 }) },
  { name: 'batch-norm-no-scale', inputShape: [2, 3], weight: normWeight,
    layer: (tf) => tf.layers.batchNormalization({ scale: false, momentum: 0.9 }) },
  { name: 'layer-norm-vector', inputShape: [5], batch: 3, weight: normWeight,
    layer: (tf) => tf.layers.layerNormalization({}) },
  { name: 'layer-norm-sequence', inputShape: [3, 4], weight: normWeight,
    layer: (tf) => tf.layers.layerNormalization({ epsilon: 0.01 }) },
  { name: 'layer-norm-no-center', inputShape: [2, 3], weight: normWeight,
    layer: (tf) => tf.layers.layerNormalization({ center: false }) },
  { name: 'layer-norm-no-scale', inputShape: [2, 2, 3], weight: normWeight,
    layer: (tf) => tf.layers.layerNormalization({ scale: false }) },
];
