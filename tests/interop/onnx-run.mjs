// SPDX-License-Identifier: GPL-3.0-or-later
// onnx-run.mjs MODEL.onnx INPUTS.json OUTPUTS.json: runs the model in onnxruntime-node (CPU)
// and writes every graph output in graph order.
import { readInputs, require, writeOutputs } from './io.mjs';

const ort = require('onnxruntime-node');
const [modelPath, inputsPath, outputsPath] = process.argv.slice(2);
const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
const feeds = {};
for (const x of readInputs(inputsPath)) {
  const data = x.dtype === 'int32' ? Int32Array.from(x.data) : Float32Array.from(x.data);
  feeds[x.name] = new ort.Tensor(x.dtype === 'int32' ? 'int32' : 'float32', data, x.shape);
}
const result = await session.run(feeds);
writeOutputs(outputsPath, session.outputNames.map((name) => ({
  name, shape: result[name].dims, data: Array.from(result[name].data),
})));
