// SPDX-License-Identifier: GPL-3.0-or-later
// make-reference.mjs OUTDIR: writes one JSON file per Keras reference case, computed with
// TensorFlow.js 4.22 (pure JS CPU backend), for tests/test-keras-reference.c.
//
// Every module `cases-*.mjs` next to this file is imported; it exports `cases`, an array of
//   { name,                       // unique within the module: file `<family>-<name>.json`
//     layer: (tf) => tf.layers.x({...}),   // the one layer under test
//     inputShape: [...],          // per-sample shape (or inputShapes: [[...], ...])
//     batch,                      // default 2
//     weight: (name, shape, rand) => number[],  // optional; default uniform [-0.5, 0.5)
//     input: (index, shape, rand) => number[],  // optional; default uniform [-1, 1)
//     training,                   // optional: run the layer with training = true
//     reference: (tf, inputs, weights) => tensor }
//                                 // optional: compute the expected output with tfjs ops
//                                 // instead of the layer, where the tfjs layer is known to
//                                 // deviate from Keras (weights: {name: tensor})
// `rand()` is a generator seeded from the case name, so each file is reproducible alone.
//
// Each JSON: { name, family, tfjs_version, class_name, config (as tfjs serialises it,
// snake_case), inputs: [{shape, values}], weights: [{name, shape, values}],
// outputs: [{shape, values}] }. Shapes include the batch axis; values are row-major.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tfjs prints a banner recommending tfjs-node when its CPU backend starts; drop it.
const origWarn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('tfjs-node'))
    return;
  origWarn(...args);
};
const tf = await import('@tensorflow/tfjs');

function hashString(s) {
  let h = 2166136261 >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

// mulberry32: small, seedable, identical on every machine.
function makeRand(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);
const toF32 = (v) => Array.from(Float32Array.from(v));

function runCase(family, c) {
  const rand = makeRand(hashString(`${family}/${c.name}`));
  const batch = c.batch ?? 2;
  const inputShapes = c.inputShapes ?? [c.inputShape];
  const layer = c.layer(tf);
  const inputs = inputShapes.map((s) => tf.input({ shape: s }));
  const applied = layer.apply(inputs.length === 1 ? inputs[0] : inputs);
  const outputs = Array.isArray(applied) ? applied : [applied];
  const model = tf.model({ inputs, outputs });

  const topology = model.toJSON(null, false);
  const entry = topology.config.layers.find((l) => l.config.name === layer.name);
  if (!entry)
    throw new Error(`${c.name}: layer ${layer.name} not found in the model topology`);

  const weights = layer.weights.map((w) => {
    let name = w.originalName ?? w.name;
    if (name.startsWith(layer.name + '/'))
      name = name.slice(layer.name.length + 1);
    const values = toF32(c.weight
      ? c.weight(name, w.shape, rand)
      : Array.from({ length: size(w.shape) }, () => rand() - 0.5));
    if (values.length !== size(w.shape))
      throw new Error(`${c.name}: weight ${name} needs ${size(w.shape)} values`);
    return { name, shape: w.shape, values };
  });
  if (weights.length > 0)
    layer.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));

  const inputData = inputShapes.map((s, i) => {
    const shape = [batch, ...s];
    const values = toF32(c.input
      ? c.input(i, shape, rand)
      : Array.from({ length: size(shape) }, () => 2 * rand() - 1));
    return { shape, values };
  });
  const inputTensors = inputData.map((d) => tf.tensor(d.values, d.shape));
  let result;
  if (c.reference) {
    const byName = Object.fromEntries(weights.map((w) => [w.name, tf.tensor(w.values, w.shape)]));
    result = c.reference(tf, inputTensors, byName);
  } else if (c.training) {
    result = layer.apply(inputTensors.length === 1 ? inputTensors[0] : inputTensors,
                         { training: true });
  } else {
    result = model.predict(inputTensors.length === 1 ? inputTensors[0] : inputTensors);
  }
  const results = Array.isArray(result) ? result : [result];
  const outputData = results.map((t) => ({ shape: t.shape, values: toF32(t.dataSync()) }));

  return {
    name: c.name,
    family,
    tfjs_version: tf.version_layers,
    class_name: entry.class_name,
    config: entry.config,
    inputs: inputData,
    weights,
    outputs: outputData,
  };
}

const outDir = process.argv[2];
const onlyFamilies = process.argv.slice(3);
if (!outDir) {
  console.error('usage: node make-reference.mjs OUTDIR [FAMILY...]  (FAMILY: conv for cases-conv.mjs)');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = fs.readdirSync(here).filter((f) => /^cases-.+\.mjs$/.test(f)).sort()
  .filter((f) => onlyFamilies.length === 0
          || onlyFamilies.includes(f.replace(/^cases-/, '').replace(/\.mjs$/, '')));
if (modules.length === 0) {
  console.error(`make-reference: no cases-*.mjs modules in ${here}`);
  process.exit(1);
}

// A broken case is reported and the others are still written; the exit status says so.
let written = 0;
const failed = [];
for (const file of modules) {
  const family = file.replace(/^cases-/, '').replace(/\.mjs$/, '');
  let mod;
  try {
    mod = await import(pathToFileURL(path.join(here, file)).href);
    if (!Array.isArray(mod.cases))
      throw new Error(`${file} must export an array named 'cases'`);
  } catch (e) {
    console.error(`make-reference: ${file}: ${e.stack ?? e}`);
    failed.push(file);
    continue;
  }
  const seen = new Set();
  for (const c of mod.cases) {
    try {
      if (seen.has(c.name))
        throw new Error(`duplicate case name ${c.name}`);
      seen.add(c.name);
      const json = tf.tidy(() => runCase(family, c));
      fs.writeFileSync(path.join(outDir, `${family}-${c.name}.json`), JSON.stringify(json));
      written++;
    } catch (e) {
      console.error(`make-reference: ${file} case ${c.name}: ${e.stack ?? e}`);
      failed.push(`${family}/${c.name}`);
    }
  }
}
console.log(`make-reference: wrote ${written} cases from ${modules.length} modules to ${outDir}`);
if (failed.length > 0) {
  console.error(`make-reference: ${failed.length} failed: ${failed.join(', ')}`);
  process.exit(1);
}
