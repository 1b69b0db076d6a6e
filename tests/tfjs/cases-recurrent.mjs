// SPDX-License-Identifier: GPL-3.0-or-later
// Keras reference cases for the Embedding and recurrent family
// (engine/layers/weft-layers-recurrent.c). See make-reference.mjs for the format.
// tfjs 4.22 has no GRU reset_after=true: tests/test-engine-recurrent.c derives that by hand.
// tfjs defaults recurrentActivation to hard_sigmoid; cases name it whenever it matters.
//
// Mapping these configs onto the registry (for tests/test-keras-reference.c and the Keras
// importer): Bidirectional and TimeDistributed nest the wrapped layer as
// {layer: {class_name, config}}; Weft flattens it: param `layer` = class_name, the inner
// config's keys (units, activation, recurrent_activation, use_bias, return_sequences,
// go_backwards, reset_after) become the wrapper's params. tfjs also writes keys that do not
// change the forward pass of these cases: dropout 0, recurrent_dropout 0, implementation,
// unroll false, stateful false, return_state false, unit_forget_bias null (an initialiser
// option), and Embedding's mask_zero null, input_length null.

const size = (shape) => shape.reduce((a, b) => a * b, 1);
// Token ids as floats holding integers, every id of the vocabulary reachable.
const ids = (vocab) => (i, shape, rand) =>
  Array.from({ length: size(shape) }, () => Math.floor(rand() * vocab));
// Inner layers get fixed names so that Bidirectional's weights are forward_lstm/... as in Keras.
const inner = (tf, kind, args) => tf.layers[kind]({ name: kind === 'simpleRNN' ? 'simple_rnn'
                                                           : kind, ...args });

export const cases = [
  // Embedding
  { name: 'embedding-sequence', inputShape: [5], input: ids(7),
    layer: (tf) => tf.layers.embedding({ inputDim: 7, outputDim: 3 }) },
  { name: 'embedding-grid', inputShape: [2, 3], batch: 3, input: ids(4),
    layer: (tf) => tf.layers.embedding({ inputDim: 4, outputDim: 2 }) },

  // SimpleRNN
  { name: 'simple-rnn-last', inputShape: [5, 3],
    layer: (tf) => tf.layers.simpleRNN({ units: 4 }) },
  { name: 'simple-rnn-sequences', inputShape: [4, 2], batch: 3,
    layer: (tf) => tf.layers.simpleRNN({ units: 3, returnSequences: true }) },
  { name: 'simple-rnn-backwards-sequences', inputShape: [4, 3],
    layer: (tf) => tf.layers.simpleRNN({ units: 2, returnSequences: true, goBackwards: true }) },
  { name: 'simple-rnn-relu-no-bias', inputShape: [3, 2],
    layer: (tf) => tf.layers.simpleRNN({ units: 3, activation: 'relu', useBias: false }) },

  // LSTM
  { name: 'lstm-sigmoid-last', inputShape: [5, 3],
    layer: (tf) => tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid' }) },
  { name: 'lstm-hard-sigmoid-sequences', inputShape: [4, 2], batch: 3,
    layer: (tf) => tf.layers.lstm({ units: 3, recurrentActivation: 'hardSigmoid',
                                    returnSequences: true }) },
  { name: 'lstm-backwards-last', inputShape: [4, 3],
    layer: (tf) => tf.layers.lstm({ units: 2, recurrentActivation: 'sigmoid',
                                    goBackwards: true }) },
  { name: 'lstm-backwards-sequences-no-bias', inputShape: [4, 2],
    layer: (tf) => tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid', useBias: false,
                                    returnSequences: true, goBackwards: true }) },
  { name: 'lstm-relu', inputShape: [3, 2],
    layer: (tf) => tf.layers.lstm({ units: 2, activation: 'relu',
                                    recurrentActivation: 'sigmoid' }) },

  // GRU (reset_after=false: the only form tfjs 4.22 has)
  { name: 'gru-last', inputShape: [5, 3],
    layer: (tf) => tf.layers.gru({ units: 4, recurrentActivation: 'sigmoid' }) },
  { name: 'gru-hard-sigmoid-sequences', inputShape: [4, 2], batch: 3,
    layer: (tf) => tf.layers.gru({ units: 3, recurrentActivation: 'hardSigmoid',
                                   returnSequences: true }) },
  { name: 'gru-backwards-sequences', inputShape: [4, 3],
    layer: (tf) => tf.layers.gru({ units: 2, recurrentActivation: 'sigmoid',
                                   returnSequences: true, goBackwards: true }) },
  { name: 'gru-no-bias', inputShape: [3, 2],
    layer: (tf) => tf.layers.gru({ units: 3, recurrentActivation: 'sigmoid',
                                   useBias: false }) },

  // Bidirectional
  { name: 'bidirectional-lstm-concat', inputShape: [4, 3],
    layer: (tf) => tf.layers.bidirectional({
      layer: inner(tf, 'lstm', { units: 2, recurrentActivation: 'sigmoid' }),
      mergeMode: 'concat' }) },
  { name: 'bidirectional-lstm-concat-sequences', inputShape: [4, 2],
    layer: (tf) => tf.layers.bidirectional({
      layer: inner(tf, 'lstm', { units: 3, recurrentActivation: 'sigmoid',
                                 returnSequences: true }),
      mergeMode: 'concat' }) },
  { name: 'bidirectional-gru-sum-sequences', inputShape: [4, 3],
    layer: (tf) => tf.layers.bidirectional({
      layer: inner(tf, 'gru', { units: 2, recurrentActivation: 'sigmoid',
                                returnSequences: true }),
      mergeMode: 'sum' }) },
  { name: 'bidirectional-simple-rnn-mul', inputShape: [3, 2],
    layer: (tf) => tf.layers.bidirectional({
      layer: inner(tf, 'simpleRNN', { units: 3 }), mergeMode: 'mul' }) },
  { name: 'bidirectional-gru-inner-backwards-sequences', inputShape: [4, 2],
    layer: (tf) => tf.layers.bidirectional({
      layer: inner(tf, 'gru', { units: 2, recurrentActivation: 'sigmoid', goBackwards: true,
                                returnSequences: true }),
      mergeMode: 'concat' }) },
  { name: 'bidirectional-lstm-ave-sequences', inputShape: [3, 2],
    layer: (tf) => tf.layers.bidirectional({
      layer: inner(tf, 'lstm', { units: 2, recurrentActivation: 'hardSigmoid',
                                 returnSequences: true }),
      mergeMode: 'ave' }) },

  // TimeDistributed(Dense)
  { name: 'time-distributed-dense', inputShape: [4, 3],
    layer: (tf) => tf.layers.timeDistributed({
      layer: tf.layers.dense({ units: 2, activation: 'tanh' }) }) },
  { name: 'time-distributed-dense-softmax-no-bias', inputShape: [3, 4],
    layer: (tf) => tf.layers.timeDistributed({
      layer: tf.layers.dense({ units: 3, activation: 'softmax', useBias: false }) }) },
];
