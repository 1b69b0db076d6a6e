# e2e-lib.sh: what the real-window tests (e2e-editor.sh, e2e-autosave.sh) share. Sourced;
# the caller defines LOG (the app's output with WEFT_TEST_HOOK=1), fail MESSAGE, and, for
# the drag, X and Y (the window's origin on the screen).

mark () { wc -l < "$LOG"; }
# wait_for MARK REGEX [SECONDS]: a log line after line MARK matches REGEX
wait_for () {
  local from=$1 re=$2 limit=${3:-10} i
  for i in $(seq 1 $((limit * 20))); do
    tail -n +$((from + 1)) "$LOG" | grep -Eq "$re" && return 0
    sleep 0.05
  done
  fail "timed out waiting for '$re'"
}
last () { tail -n +$(($1 + 1)) "$LOG" | grep -E "$2" | tail -1; }
field () { sed -E "s/.* $2=([-0-9]+),([-0-9]+).*/\\1 \\2/"; }
box () { last $1 "box id=-?[0-9]+ name=$2 "; }

# write_graph FILE: one Input x of shape [8] at (40, 200), nothing else
write_graph () {
  cat > "$1" <<'JSON'
{
  "format": "weft-graph",
  "version": 1,
  "main_model": "model",
  "layers": [
    { "name": "x", "type": "Input", "trainable": true, "config": { "shape": [8], "dtype": "float32" } }
  ],
  "models": [
    { "name": "model", "nodes": [ { "id": 1, "call": "x", "inputs": [], "x": 40.0, "y": 200.0 } ],
      "inputs": [1], "outputs": [] }
  ]
}
JSON
}

# drag_from_palette TYPE TX TY: palette row -> canvas point (window coordinates), following
# TESTING-GUI.md section 5 (event-driven). The palette reports its rows after the first
# frames and again whenever they move (later in a slow sanitized start).
drag_from_palette () {
  local type=$1 tx=$2 ty=$3 m sx sy
  wait_for 0 'palette done' 10
  read sx sy < <(last 0 "palette $type [0-9]" | sed -E 's/.* ([0-9]+),([0-9]+)$/\1 \2/')
  [ -n "$sx" ] || fail "palette row $type not reported"
  sx=$((X + sx)); sy=$((Y + sy))
  m=$(mark)
  xdotool mousemove --sync $sx $sy mousedown 1 sleep 0.1 mousemove $((sx + 20)) $((sy + 14))
  wait_for $m "drag-begin $type"
  xdotool mousemove $((X + tx)) $((Y + ty)) sleep 0.1 mousemove $((X + tx + 2)) $((Y + ty + 1))
  wait_for $m 'drop-enter'
  xdotool sleep 0.1 mouseup 1
}
