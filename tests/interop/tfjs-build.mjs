// SPDX-License-Identifier: GPL-3.0-or-later
// tfjs-build.mjs DIR: builds a functional model in TensorFlow.js 4.22 with a shared layer
// (called twice), a nested functional model called twice, a nested Sequential model, an LSTM
// with the tfjs default recurrent activation hard_sigmoid and three heads; writes
// DIR/model.json + DIR/weights.bin (tfjs layers-model), DIR/to_json.json (model.toJSON, the
// Keras to_json() form), DIR/inputs.json and DIR/outputs.json (tfjs' own predictions).
import fs from 'node:fs';
import path from 'node:path';
import { require, writeOutputs } from './io.mjs';

const tf = require('@tensorflow/tfjs');
const dir = process.argv[2];

// a nested functional model (node 0 is its construction; its calls start at 1)
const encIn = tf.input({ shape: [6], name: 'enc_in' });
const encOut = tf.layers.dense({ units: 5, activation: 'tanh', name: 'enc_dense' }).apply(encIn);
const encoder = tf.model({ inputs: encIn, outputs: encOut, name: 'encoder' });
// a nested Sequential model
const tower = tf.sequential({ name: 'tower' });
tower.add(tf.layers.dense({ inputShape: [10], units: 4, activation: 'relu', name: 'tower_a' }));
tower.add(tf.layers.dense({ units: 4, activation: 'sigmoid', name: 'tower_b' }));

const a = tf.input({ shape: [6], name: 'a' });
const b = tf.input({ shape: [6], name: 'b' });
const seq = tf.input({ shape: [5, 3], name: 'seq' });
const shared = tf.layers.dense({ units: 6, activation: 'elu', name: 'shared_dense' });
const ea = encoder.apply(shared.apply(a));
const eb = encoder.apply(shared.apply(b));
const both = tf.layers.concatenate({ name: 'both' }).apply([ea, eb]);
const towered = tower.apply(both);
const lstm = tf.layers.lstm({ units: 4, name: 'lstm_hard' }).apply(seq);  // hard_sigmoid
const joined = tf.layers.concatenate({ name: 'joined' }).apply([towered, lstm]);
const h1 = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head_class' }).apply(joined);
const h2 = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'head_flag' }).apply(joined);
const h3 = tf.layers.dense({ units: 2, name: 'head_value' }).apply(towered);
const model = tf.model({ inputs: [a, b, seq], outputs: [h1, h2, h3], name: 'built_in_tfjs' });

// weights away from the initialiser so that every one of them matters
let seed = 1;
const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 - 0.5; };
model.setWeights(model.getWeights().map((w) => tf.tensor(Array.from({ length: w.size }, rand), w.shape)));

await model.save(tf.io.withSaveHandler(async (art) => {
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(art.weightData));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
    format: 'layers-model', generatedBy: 'TensorFlow.js tfjs-layers v4.22.0', convertedBy: null,
    modelTopology: art.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }],
  }));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
fs.writeFileSync(path.join(dir, 'to_json.json'), JSON.stringify(model.toJSON(null, false)));

const n = 4;
const inputs = [
  { name: 'a', dtype: 'float32', shape: [n, 6] },
  { name: 'b', dtype: 'float32', shape: [n, 6] },
  { name: 'seq', dtype: 'float32', shape: [n, 5, 3] },
].map((x) => ({ ...x, data: Array.from({ length: x.shape.reduce((p, q) => p * q, 1) }, () => 2 * rand()) }));
fs.writeFileSync(path.join(dir, 'inputs.json'), JSON.stringify({ inputs }));
const ys = model.predict(inputs.map((x) => tf.tensor(x.data, x.shape)));
writeOutputs(path.join(dir, 'outputs.json'), ys.map((y, i) => ({
  name: model.outputNames[i], shape: y.shape, data: Array.from(y.dataSync()),
})));
