// SPDX-License-Identifier: GPL-3.0-or-later
// Keras reference cases for the Core and Merge families
// (engine/layers/weft-layers-{core,merge}.c). See make-reference.mjs for the format.

const activations = ['linear', 'relu', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh',
                     'softmax', 'softplus', 'softsign', 'swish', 'gelu'];

export const cases = [
  // Dense on the last axis of any rank, with every activation tfjs knows by a Keras name.
  { name: 'dense-vector', inputShape: [5],
    layer: (tf) => tf.layers.dense({ units: 3 }) },
  { name: 'dense-sequence-relu', inputShape: [4, 3], batch: 3,
    layer: (tf) => tf.layers.dense({ units: 2, activation: 'relu' }) },
  { name: 'dense-image-nobias', inputShape: [2, 3, 4],
    layer: (tf) => tf.layers.dense({ units: 5, useBias: false, activation: 'tanh' }) },
  ...activations.map((a) => ({
    name: `dense-${a}`, inputShape: [6],
    layer: (tf) => tf.layers.dense({ units: 4, activation: a }) })),
  ...activations.map((a) => ({
    name: `activation-${a}`, inputShape: [3, 5],
    input: (i, shape, rand) => Array.from({ length: shape.reduce((x, y) => x * y, 1) },
                                          () => 6 * rand() - 3),
    layer: (tf) => tf.layers.activation({ activation: a }) })),
  { name: 'flatten', inputShape: [2, 3, 2],
    layer: (tf) => tf.layers.flatten() },
  { name: 'reshape', inputShape: [3, 4],
    layer: (tf) => tf.layers.reshape({ targetShape: [6, 2] }) },
  { name: 'repeat-vector', inputShape: [4],
    layer: (tf) => tf.layers.repeatVector({ n: 3 }) },
  // Merges
  { name: 'add-three', inputShapes: [[2, 3], [2, 3], [2, 3]],
    layer: (tf) => tf.layers.add() },
  { name: 'multiply', inputShapes: [[4], [4]],
    layer: (tf) => tf.layers.multiply() },
  { name: 'average-three', inputShapes: [[5], [5], [5]],
    layer: (tf) => tf.layers.average() },
  { name: 'maximum', inputShapes: [[3, 2], [3, 2], [3, 2]],
    layer: (tf) => tf.layers.maximum() },
  { name: 'minimum', inputShapes: [[6], [6]],
    layer: (tf) => tf.layers.minimum() },
  { name: 'concatenate-channels', inputShapes: [[3, 3, 2], [3, 3, 4]],
    layer: (tf) => tf.layers.concatenate() },
  { name: 'concatenate-axis1', inputShapes: [[2, 3], [4, 3], [1, 3]],
    layer: (tf) => tf.layers.concatenate({ axis: 1 }) },
  { name: 'concatenate-axis2-of-3', inputShapes: [[2, 3, 4], [2, 1, 4]],
    layer: (tf) => tf.layers.concatenate({ axis: 2 }) },
  { name: 'dot-vectors', inputShapes: [[5], [5]],
    layer: (tf) => tf.layers.dot({ axes: 1 }) },
  { name: 'dot-cosine', inputShapes: [[5], [5]],
    layer: (tf) => tf.layers.dot({ axes: -1, normalize: true }) },
  { name: 'dot-sequences-last', inputShapes: [[3, 4], [2, 4]],
    layer: (tf) => tf.layers.dot({ axes: 2 }) },
  { name: 'dot-sequences-first', inputShapes: [[3, 4], [3, 2]],
    layer: (tf) => tf.layers.dot({ axes: 1 }) },
  { name: 'dot-matrix-vector', inputShapes: [[3, 4], [4]],
    layer: (tf) => tf.layers.dot({ axes: [2, 1] }) },
  { name: 'dot-mixed-axes-cosine', inputShapes: [[4, 3], [2, 4]],
    layer: (tf) => tf.layers.dot({ axes: [1, 2], normalize: true }) },
];
