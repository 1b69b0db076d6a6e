#!/bin/bash
# e2e-autosave.sh WEFT_EXE [ARTEFACT_DIR]: crash recovery end to end (run it under
# tests/with-xvfb-dbus.sh). Opens a graph, drags a Dense onto the canvas, waits until the
# autosave is written (autosave-interval = 1 s through a keyfile GSettings backend), kills the
# app with SIGKILL, starts it again and expects the restore offer for that autosave; accepts it
# and expects the Dense back. Needs the window wiring of ui/weft-autosave.h, which prints the
# test-hook lines "autosave written ID" (WeftAutosave itself), "autosave leftovers N",
# "restore offered ID" and "autosave restored ID" (the window).
set -u
APP=$1
OUT=${2:-$PWD/e2e-autosave}
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.log
for tool in xdotool import; do
  command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
[ -n "${DISPLAY:-}" ] || { echo "SKIP: no display"; exit 77; }

WORK=$(mktemp -d)
export WEFT_TEST_HOOK=1 GSK_RENDERER=cairo GTK_A11Y=none GDK_BACKEND=x11
export GSETTINGS_BACKEND=keyfile XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache
mkdir -p "$XDG_CONFIG_HOME/glib-2.0/settings" "$XDG_CACHE_HOME"
printf '[org/weft/Weft]\nautosave-interval=uint32 1\n' > "$XDG_CONFIG_HOME/glib-2.0/settings/keyfile"
LOG=$OUT/app.log
PID=
cleanup () { [ -n "$PID" ] && kill -9 $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

fail () { echo "FAIL: $*"; echo "--- app log:"; tail -40 "$LOG"; import -window root "$OUT/failure.png" 2>/dev/null; exit 1; }
mark () { wc -l < "$LOG"; }
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

cat > "$WORK/graph.weft" <<'JSON'
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

start_app () {
  : > "$LOG"
  "$APP" "$@" >> "$LOG" 2>&1 &
  PID=$!
  wait_for 0 'first frame' 20
}

echo "1..3"
# 1. an edit is autosaved
start_app "$WORK/graph.weft"
wait_for 0 'boxes done' 10
WID=$(xdotool search --sync --onlyvisible --limit 1 --name 'graph\.weft')
[ -n "$WID" ] || fail "no window"
eval "$(xdotool getwindowgeometry --shell "$WID")"
xdotool windowfocus --sync "$WID" 2>/dev/null
read ix iy < <(last 0 "box id=-?[0-9]+ name=x " | field - body)
read sx sy < <(last 0 "palette Dense [0-9]" | sed -E 's/.* ([0-9]+),([0-9]+)$/\1 \2/')
[ -n "$sx" ] || fail "palette row Dense not reported"
m=$(mark)
xdotool mousemove --sync $((X + sx)) $((Y + sy)) mousedown 1 sleep 0.1 mousemove $((X + sx + 20)) $((Y + sy + 14))
wait_for $m 'drag-begin Dense'
xdotool mousemove $((X + ix + 300)) $((Y + iy + 20)) sleep 0.1 mousemove $((X + ix + 302)) $((Y + iy + 21))
wait_for $m 'drop-enter'
xdotool sleep 0.1 mouseup 1
wait_for $m 'drop Dense id=[0-9]+'
wait_for $m 'autosave written [-0-9a-f]+' 10
ID=$(last $m 'autosave written' | sed -E 's/.*autosave written ([-0-9a-f]+).*/\1/')
[ -f "$XDG_CACHE_HOME/weft/autosave/$ID.weft" ] || fail "no autosave file for $ID"
echo "ok 1 the edit was autosaved as $ID"

# 2. kill -9, start again: the restore is offered
kill -9 $PID; wait $PID 2>/dev/null; PID=
[ -f "$XDG_CACHE_HOME/weft/autosave/$ID.weft" ] || fail "the autosave did not survive the kill"
start_app
wait_for 0 'autosave leftovers 1' 10
wait_for 0 "restore offered $ID" 10
import -window root "$OUT/restore-offer.png" 2>/dev/null
echo "ok 2 after kill -9 the restart offers to restore $ID"

# 3. accept: the Dense is back
m=$(mark)
xdotool key Return
wait_for $m "autosave restored $ID" 10
wait_for $m 'boxes done 2' 10
echo "ok 3 the restored graph has the Dense"
