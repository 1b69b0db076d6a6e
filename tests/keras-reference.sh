#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# keras-reference.sh TEST_BINARY: generates the TensorFlow.js reference cases into a temporary
# directory (tests/tfjs/make-reference.mjs) and checks Weft's layers against them.
set -eu

test_bin="$1"
shift
here="$(cd "$(dirname "$0")" && pwd)"
tfjs_dir="$here/tfjs"

if [ ! -d "$tfjs_dir/node_modules/@tensorflow/tfjs" ]; then
  echo "keras-reference: $tfjs_dir/node_modules is missing;" \
       "run 'npm ci --prefix tests/tfjs' in the source tree first" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "keras-reference: node (Node.js >= 18) is needed to generate the references" >&2
  exit 1
fi

tmpdir="$(mktemp -d "${TMPDIR:-/tmp}/weft-keras-ref.XXXXXX")"
trap 'rm -rf "$tmpdir"' EXIT INT TERM

node "$tfjs_dir/make-reference.mjs" "$tmpdir" >&2
"$test_bin" --reference-dir "$tmpdir" "$@"
