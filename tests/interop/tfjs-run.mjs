// SPDX-License-Identifier: GPL-3.0-or-later
// tfjs-run.mjs DIR INPUTS.json OUTPUTS.json: loads DIR/model.json (+ shards) with
// tf.loadLayersModel in TensorFlow.js 4.22 and writes the predictions of every output.
import fs from 'node:fs';
import path from 'node:path';
import { readInputs, require, writeOutputs } from './io.mjs';

const tf = require('@tensorflow/tfjs');
const [dir, inputsPath, outputsPath] = process.argv.slice(2);
const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const specs = [];
const parts = [];
for (const group of json.weightsManifest) {
  specs.push(...group.weights);
  for (const p of group.paths) parts.push(fs.readFileSync(path.join(dir, p)));
}
const all = Buffer.concat(parts);
const model = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: json.modelTopology, weightSpecs: specs,
  weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
}));
const given = Object.fromEntries(readInputs(inputsPath).map((x) => [x.name, x]));
const xs = model.inputLayers.map((layer) => {
  const x = given[layer.name];
  if (!x) throw new Error(`no data for input ${layer.name}`);
  return tf.tensor(x.data, x.shape, x.dtype === 'int32' ? 'int32' : 'float32');
});
let ys = model.predict(xs.length === 1 ? xs[0] : xs);
if (!Array.isArray(ys)) ys = [ys];
writeOutputs(outputsPath, ys.map((y, i) => ({
  name: model.outputNames[i], shape: y.shape, data: Array.from(y.dataSync()),
})));
