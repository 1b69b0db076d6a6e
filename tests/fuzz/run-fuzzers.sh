#!/bin/sh
# Runs fuzz targets of a -Dfuzzing=true build for a time budget each, in parallel.
#   tests/fuzz/run-fuzzers.sh BUILD_DIR WORK_DIR SECONDS TARGET...
# New inputs go to WORK_DIR/<target>/corpus (the committed corpus is read, not written);
# crashers to WORK_DIR/<target>/crash-*; the log to WORK_DIR/<target>.log. Copy crashers
# worth keeping to tests/fuzz/regressions/<target>/.
set -eu
build=$1 work=$2 secs=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
for t in "$@"; do
  mkdir -p "$work/$t/corpus"
  dict=""
  case $t in
    weft) dict="-dict=$src/weft.dict" ;;
    keras) dict="-dict=$src/keras.dict" ;;
    safetensors) dict="-dict=$src/safetensors.dict" ;;
    npy|npz) dict="-dict=$src/npy.dict" ;;
  esac
  case $t in
    keras) maxlen=32768 ;;
    weft|npz) maxlen=16384 ;;
    *) maxlen=4096 ;;
  esac
  # 512 MiB for one malloc and 2 GiB in all are far above what a 16 KiB input may need:
  # hitting them is a finding (memory must stay bounded by a small multiple of the input).
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  OPENBLAS_NUM_THREADS=1 \
  "$build/tests/fuzz/fuzz-$t" "$work/$t/corpus" "$src/corpus/$t" $dict \
      -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
      -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$work/$t/" \
      > "$work/$t.log" 2>&1 &
done
wait
