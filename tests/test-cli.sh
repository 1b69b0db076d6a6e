#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The weft command line, end to end: exit codes, messages and files written. TAP output.
# Usage: test-cli.sh /path/to/weft
set -u

WEFT=${1:?usage: test-cli.sh /path/to/weft}
case $WEFT in /*) ;; *) WEFT=$PWD/$WEFT ;; esac
SRC=${WEFT_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
FILES=$SRC/tests/data/files
TMP=$(mktemp -d "${TMPDIR:-/tmp}/weft-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
# Headless whatever the developer's session has: no test may open a window.
unset DISPLAY WAYLAND_DISPLAY
# Under -Db_sanitize=address: fontconfig's process-lifetime caches are not Weft's leaks.
export LSAN_OPTIONS="suppressions=$FILES/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# run NAME: runs weft with the remaining arguments, stdin closed, capturing out/err/rc.
run () {
  "$WEFT" "$@" </dev/null >out.txt 2>err.txt
  rc=$?
}

# check DESC EXPECTED_RC [grep PATTERN FILE]...: one TAP line for the last run.
check () {
  local desc=$1 want=$2
  shift 2
  if [ "$rc" != "$want" ]; then
    not_ok "$desc" "exit $rc, expected $want" "stdout: $(head -c 600 out.txt)" "stderr: $(head -c 600 err.txt)"
    return
  fi
  while [ $# -ge 3 ] && [ "$1" = grep ]; do
    if ! grep -q -- "$2" "$3"; then
      not_ok "$desc" "'$2' not in $3: $(head -c 600 "$3")"
      return
    fi
    shift 3
  done
  ok "$desc"
}

# mknpy PATH SHAPE_TUPLE COUNT: a float32 .npy of COUNT zeros (no numpy needed).
mknpy () {
  local header="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
  local len=$(( ${#header} + 1 ))
  local pad=$(( (64 - (10 + len) % 64) % 64 ))
  local total=$(( len + pad ))
  {
    printf '\223NUMPY\001\000'
    printf "\\$(printf %03o $((total % 256)))\\$(printf %03o $((total / 256)))"
    printf '%s' "$header"
    printf '%*s' "$pad" ''
    printf '\n'
    head -c $(( $3 * 4 )) /dev/zero
  } > "$1"
}

# npy_shape PATH: the shape tuple from an .npy header.
npy_shape () {
  head -c 256 "$1" | tr -d '\000' | grep -ao "'shape': ([^)]*)" | sed "s/'shape': //"
}

# ---- usage and global options ------------------------------------------------------------

run --help
check "--help exits 0 and lists the sub-commands" 0 grep "weft train FILE" out.txt

run --version
check "--version prints the version and the OpenBLAS line" 0 grep "^weft [0-9]" out.txt grep "OpenBLAS" out.txt

run --no-such-option
check "an unknown option is a usage error (2)" 2 grep "no-such-option\|Unknown option" err.txt

run frobnicate
check "an unknown command is a usage error (2)" 2 grep "unknown command 'frobnicate'" err.txt

run train
check "train without FILE is a usage error (2)" 2 grep "missing FILE" err.txt

run train "$FILES/small.weft" --epochs 0
check "train --epochs 0 is a usage error (2)" 2 grep "epochs" err.txt

run train "$FILES/small.weft" --epochs many
check "train --epochs many is a usage error (2)" 2

run train "$FILES/small.weft" --optimizer adagrad
check "train --optimizer adagrad is a usage error (2)" 2 grep "adagrad" err.txt

run train "$FILES/small.weft" --validation-split 1.5
check "train --validation-split 1.5 is a usage error (2)" 2 grep "validation-split" err.txt

run train "$FILES/small.weft" --data nonsense
check "train --data without NAME= or synthetic: is a usage error (2)" 2 grep "NAME=FILE" err.txt

run predict "$FILES/small.weft"
check "predict without inputs is a usage error (2)" 2 grep "missing INPUT.npy" err.txt

# ---- missing and invalid files --------------------------------------------------------------

run summary does-not-exist.weft
check "summary of a missing file exits 1 naming the file" 1 grep "does-not-exist.weft" err.txt

run train does-not-exist.weft
check "train of a missing file exits 1 naming the file" 1 grep "does-not-exist.weft" err.txt

run validate "$FILES/invalid.weft"
check "validate of an invalid graph exits 1 and names the node and both shapes" 1 \
  grep "node 'sum' (Add)" err.txt grep "(None, 4)" err.txt grep "(None, 3)" err.txt

run summary "$FILES/invalid.weft"
check "summary of an invalid graph exits 1 with the error" 1 grep "node 'sum'" err.txt

run train "$FILES/invalid.weft" --no-save
check "train of an invalid graph exits 1" 1 grep "invalid" err.txt

run validate "$FILES/unused-input.weft"
check "validate prints warnings but exits 0" 0 grep "warning: .*'extra'" err.txt grep "1 warning" out.txt

run validate "$FILES/unknown-type.weft"
check "an unknown layer type exits 1 naming the layer and the type" 1 grep "layer 'hidden': unknown layer type 'Dense9'" err.txt

run summary "$FILES/newer-version.weft"
check "a newer format version exits 1 with 'made by a newer Weft'" 1 grep "made by a newer Weft" err.txt

printf '{"format": "weft-graph", "version": 1, "layers": [' > truncated.weft
run summary truncated.weft
check "truncated JSON exits 1 naming the file" 1 grep "truncated.weft: not valid JSON" err.txt

# ---- summary, validate, examples -----------------------------------------------------------

run summary "$FILES/small.weft"
check "summary prints the Keras table with the parameter total" 0 \
  grep "Total params: 49" out.txt grep "hidden (Dense)" out.txt

run validate "$FILES/small.weft"
check "validate of a valid graph exits 0" 0 grep "valid, 49 parameters" out.txt

run examples
check "examples lists the built-in examples" 0 grep "^three-heads " out.txt

run summary three-heads
check "a built-in example name works as FILE" 0 grep "Total params:" out.txt

# ---- train ---------------------------------------------------------------------------------

cp "$FILES/small.weft" small.weft
run train small.weft --epochs 3 --samples 96 --history hist.csv --plot loss.png --output out/trained.weft
if [ "$rc" = 0 ] && [ -s hist.csv ] && [ -s loss.png ] && [ -s out/trained.weft ] \
   && [ -s out/trained.safetensors ]; then
  ok "train writes the history CSV, the PNG plot, the .weft and its weights"
else
  not_ok "train writes the history CSV, the PNG plot, the .weft and its weights" "rc=$rc" "$(cat err.txt)" "$(ls -R)"
fi

if [ "$(head -c 8 loss.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  ok "the plot is a PNG file"
else
  not_ok "the plot is a PNG file"
fi

if head -1 hist.csv | grep -q "^epoch,loss,y_loss" && [ "$(wc -l < hist.csv)" -eq 4 ]; then
  ok "the history CSV has the per-head columns and one row per epoch"
else
  not_ok "the history CSV has the per-head columns and one row per epoch" "$(cat hist.csv)"
fi

if grep -qi "epoch 3/3" out.txt; then ok "train prints one line per epoch when piped"; else not_ok "train prints one line per epoch when piped" "$(cat out.txt)"; fi

sum=$(sha256sum out/trained.safetensors | cut -d' ' -f1)
if grep -q "\"sha256\": \"$sum\"" out/trained.weft && grep -q '"file": "trained.safetensors"' out/trained.weft; then
  ok "the trained .weft records its weights file and checksum"
else
  not_ok "the trained .weft records its weights file and checksum"
fi

if cmp -s small.weft "$FILES/small.weft"; then ok "--output leaves FILE unchanged"; else not_ok "--output leaves FILE unchanged"; fi

run summary out/trained.weft
check "the trained file loads again with its weights" 0 grep "Total params: 49" out.txt

run train small.weft --epochs 1 --samples 64
if [ "$rc" = 0 ] && [ -s small.safetensors ] && grep -q '"file": "small.safetensors"' small.weft \
   && grep -q '"history"' small.weft; then
  ok "train without --output saves the weights beside FILE and records them"
else
  not_ok "train without --output saves the weights beside FILE and records them" "rc=$rc" "$(cat err.txt)"
fi

# A weights file that does not match its .weft is refused.
run train small.weft --epochs 1 --samples 64 --seed 99 --output other.weft
cp out/trained.safetensors other.safetensors
run summary other.weft
check "a weights file with another checksum is refused" 1 grep "does not belong to this graph" err.txt

# Data bound by name from .npy files; a shape mismatch names the input and both shapes.
mknpy x.npy "(40, 4)" 160
mknpy y.npy "(40, 1)" 40
mknpy x5.npy "(40, 5)" 200
run train small.weft --data x=x.npy --data y=y.npy --epochs 1 --no-save
check "train binds --data NAME=FILE.npy to inputs and heads" 0 grep "[Ee]poch 1/1" out.txt

run train small.weft --data x=x5.npy --data y=y.npy --epochs 1 --no-save
check "a --data shape mismatch exits 1 naming the input and both shapes" 1 \
  grep "'x'" err.txt grep "(None, 4)" err.txt grep "(None, 5)" err.txt

run train digits-two-heads --epochs 1 --no-save
check "a built-in example trains from its CSV data binding" 0 grep "val_digit_loss" out.txt

run train small.weft --data x=missing.npy --data y=y.npy --no-save
check "a missing --data file exits 1 naming it" 1 grep "missing.npy" err.txt

# ---- predict -------------------------------------------------------------------------------

mknpy in.npy "(7, 4)" 28
run predict out/trained.weft in.npy --out pred
if [ "$rc" = 0 ] && [ -s pred/output_0.npy ] && [ "$(npy_shape pred/output_0.npy)" = "(7, 1)" ]; then
  ok "predict writes output_0.npy with shape (7, 1)"
else
  not_ok "predict writes output_0.npy with shape (7, 1)" "rc=$rc" "$(cat err.txt)" "shape: $(npy_shape pred/output_0.npy 2>/dev/null)"
fi

run predict out/trained.weft x=in.npy --out pred-named
check "predict binds NAME=FILE.npy" 0 grep "output_0.npy" out.txt

mknpy in5.npy "(7, 5)" 35
run predict out/trained.weft in5.npy --out pred
check "a predict shape mismatch exits 1 naming the input and both shapes" 1 \
  grep "input 'x'" err.txt grep "(None, 4)" err.txt grep "(7, 5)" err.txt

# ---- no sub-command, no display: the headless demo -----------------------------------------

mkdir demo && cd demo
"$WEFT" --epochs 1 --samples 128 </dev/null 2>../err.txt | cat > ../out.txt
rc=${PIPESTATUS[0]}
cd ..
if [ "$rc" = 0 ] && grep -q "Total params:" out.txt && [ -s demo/weft-demo/history.csv ] \
   && [ -s demo/weft-demo/loss.png ] && [ -s demo/weft-demo/three-heads.weft ] \
   && [ -s demo/weft-demo/three-heads.safetensors ] \
   && head -1 demo/weft-demo/history.csv | grep -q "age_loss,income_loss,gender_loss"; then
  ok "weft without arguments and without a display trains three-heads into ./weft-demo/"
else
  not_ok "weft without arguments and without a display trains three-heads into ./weft-demo/" "rc=$rc" "$(tail -5 out.txt)" "$(cat err.txt)"
fi
if grep -q "weft-demo/" out.txt; then ok "the demo says where it writes"; else not_ok "the demo says where it writes"; fi

# ---- export ----------------------------------------------------------------------------------

run export three-heads
check "export draws an example as SVG by default" 0 grep "three-heads.svg" out.txt
# Cairo writes text as glyph outlines: check it is an SVG with a drawing in it.
if grep -q "<svg" three-heads.svg 2>/dev/null && [ "$(grep -c "<path" three-heads.svg)" -gt 50 ]; then
  ok "the SVG holds a drawing of the graph"
else
  not_ok "the SVG holds a drawing of the graph" "$(head -c 300 three-heads.svg)"
fi
run export --output pic.png three-heads
if [ "$rc" = 0 ] && [ "$(head -c 8 pic.png | od -An -c | tr -d ' ')" = "211PNG\r\n032\n" ]; then
  ok "export --output .png writes a PNG"
else
  not_ok "export --output .png writes a PNG" "rc=$rc $(cat err.txt)"
fi
run export --format pdf --output pic.pdf three-heads
if [ "$rc" = 0 ] && head -c 5 pic.pdf | grep -q "%PDF"; then ok "export --format pdf writes a PDF"; else not_ok "export --format pdf writes a PDF" "$(cat err.txt)"; fi
run export --format gif three-heads
check "export refuses an unknown format" 2 grep "gif" err.txt
run export missing.weft
check "export of a missing file exits 1" 1 grep "missing.weft" err.txt

# ---- convert ---------------------------------------------------------------------------------

run convert "$SRC/resources/examples/three-heads.weft" th.onnx
if [ "$rc" = 0 ] && [ -s th.onnx ]; then ok "convert writes ONNX"; else not_ok "convert writes ONNX" "$(cat err.txt)"; fi
run convert "$SRC/resources/examples/three-heads.weft" tfjs-out --to tfjs
run convert tfjs-out/model.json back.weft
run summary back.weft
check "a TensorFlow.js export converts back to .weft with the same parameter count" 0 grep "Total params: 4,588" out.txt
run convert "$SRC/resources/examples/siamese.weft" siamese.py --to keras
check "convert --to keras writes functional-API code with the shared layer called twice" 0 grep "wrote siamese.py" out.txt
if grep -q 'shared_1(right)' siamese.py && grep -q 'shared_1(left)' siamese.py; then ok "the Keras code calls the shared layer on both inputs"; else not_ok "the Keras code calls the shared layer on both inputs"; fi
run convert "$SRC/resources/examples/three-heads.weft" out.xyz
check "convert refuses an unknown target format" 2

# ---- bench: Weft and the peer take turns ---------------------------------------------------

# A stand-in for peer_torch.py that logs how it was called, fails when the Weft measuring
# process (its sibling: the other child of weft bench) uses CPU while it runs, and reports
# samples/s that differ by round so that the ratio's pairing shows.
cat >fakepeer.sh <<'PEER'
n=$(cat peer.log 2>/dev/null | wc -l)
echo "$*" >>peer.log
phase=train
while [ $# -gt 0 ]; do [ "$1" = --phases ] && phase=$2; shift; done
cpu () { for c in $(cat /proc/$PPID/task/*/children); do [ "$c" != $$ ] && cut -d' ' -f14,15 /proc/$c/stat; done; }
before=$(cpu)
i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done
if [ "$(cpu)" != "$before" ]; then echo "weft measured while the peer ran" >&2; exit 3; fi
case $((n % 3)) in 0) sps=1000.0 ;; 1) sps=4000.0 ;; *) sps=2000.0 ;; esac
echo "torch noise on stdout"
echo "{\"model\": \"seq_mlp\", \"phase\": \"$phase\", \"samples_per_s\": $sps, \"peak_rss_mib\": $((200 + n)).5}"
PEER
run bench --model seq_mlp --batch 32 --threads 1 --runs 3 --warmup-sec 0 --min-run-sec 0.05 \
    --no-sgemm --json --python /bin/sh --peer fakepeer.sh
check "bench --json measures both phases next to the peer" 0 grep '"phase": "infer"' out.txt
if python3 - out.txt peer.log <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
weft = [r for r in rows if r["engine"] == "weft"]
peer = [r for r in rows if r["engine"] == "pytorch"]
calls = open(sys.argv[2]).read().splitlines()
assert [r["phase"] for r in weft] == ["train", "infer"], weft
assert len(peer) == 6 and [r["round"] for r in peer] == [0, 1, 2] * 2, peer
assert len(calls) == 6 and all("--runs 1" in c for c in calls), calls
assert ["--phases train" in c for c in calls] == [True] * 3 + [False] * 3, calls
for r in weft:
    assert len(r["runs"]) == 3 and r["peer_runs"] == [1000.0, 4000.0, 2000.0], r
    want = statistics.median(w / p for w, p in zip(r["runs"], r["peer_runs"]))
    assert abs(r["ratio"] - want) <= 0.006 * want, (r["ratio"], want)
    assert r["peer_samples_per_s"] == 2000.0 and r["peer_peak_rss_mib"] >= 202.5, r
PY
then ok "each round pairs one Weft run with one peer run; the ratio is the median of the pairs"
else not_ok "each round pairs one Weft run with one peer run; the ratio is the median of the pairs" "$(cat out.txt err.txt)"; fi
if grep -q "measured while" err.txt; then not_ok "the Weft child is idle while the peer runs" "$(cat err.txt)"; else ok "the Weft child is idle while the peer runs"; fi

printf 'echo "ImportError: no torch" >&2\nexit 4\n' >brokenpeer.sh
run bench --model seq_mlp --batch 32 --threads 1 --runs 2 --warmup-sec 0 --min-run-sec 0.05 \
    --phases train --no-sgemm --python /bin/sh --peer brokenpeer.sh
check "a failing peer is reported and Weft's figures are still printed" 0 \
  grep "the peer failed.*no torch" err.txt grep "^seq_mlp .* 32 .*train" out.txt

# ---- Ctrl-C -----------------------------------------------------------------------------------

cp "$FILES/small.weft" long.weft
# Many epochs that the interrupt cuts short; the wait for the second epoch line is bounded.
"$WEFT" train long.weft --epochs 1000 --samples 4096 --batch-size 4 </dev/null >long.txt 2>long.err &
pid=$!
for _ in $(seq 1 300); do
  grep -qi "epoch 2/" long.txt 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ "$rc" = 130 ] && grep -q "keeping the weights of epoch" long.err && [ -s long.safetensors ] \
   && grep -q '"sha256"' long.weft; then
  ok "Ctrl-C stops training with status 130 and saves the last finished epoch"
else
  not_ok "Ctrl-C stops training with status 130 and saves the last finished epoch" "rc=$rc" "$(cat long.err)" "$(tail -3 long.txt)"
fi
run summary long.weft
check "the file saved after Ctrl-C loads" 0 grep "Total params: 49" out.txt

echo "1..$n"
[ "$failed" -eq 0 ]
