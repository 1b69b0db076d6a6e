# SPDX-License-Identifier: GPL-3.0-or-later
"""onnx-check.py MODEL.onnx: the ONNX checker (python3-onnx) with shape inference; prints the
opset and the input/output names and exits non-zero with the checker's message on failure."""
import sys

import onnx

model = onnx.load(sys.argv[1])
try:
    onnx.checker.check_model(model, full_check=True)
except Exception as e:  # the checker's own exception types vary between versions
    print(f"onnx checker: {e}", file=sys.stderr)
    sys.exit(1)
print("opset", [o.version for o in model.opset_import],
      "inputs", [i.name for i in model.graph.input],
      "outputs", [o.name for o in model.graph.output])
