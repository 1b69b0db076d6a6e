// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the interop scripts: the JSON the C test writes ({"inputs": [{name, dtype, shape,
// data}]}) and the JSON it reads back ({"outputs": [{name, shape, data}]}).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// The peers live in tests/tfjs/node_modules (npm ci --prefix tests/tfjs).
export const require = createRequire(path.join(here, '..', 'tfjs', 'package.json'));

export function readInputs(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8')).inputs;
}

export function writeOutputs(file, outputs) {
  fs.writeFileSync(file, JSON.stringify({ outputs }));
}
