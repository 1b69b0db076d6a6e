#!/bin/bash
# take-screenshots.sh WEFT_EXE OUT_DIR GRAPH.weft [NODE]: the AppStream screenshots (start view, editor with an
# example and a selected node, dark style), taken from the running app. Not a test; run it
# under tests/with-xvfb-dbus.sh (a 1280x800 screen, no window manager) and commit the PNGs in
# resources/screenshots/.
set -eu
APP=$1
OUT=$2
mkdir -p "$OUT"
export WEFT_TEST_HOOK=1 GSK_RENDERER=cairo GTK_A11Y=none GSETTINGS_BACKEND=memory GDK_BACKEND=x11
LOG=$(mktemp)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -f "$LOG"' EXIT

wait_for () {
  for _ in $(seq 1 200); do grep -Eq "$1" "$LOG" && return 0; sleep 0.05; done
  echo "timed out waiting for '$1'" >&2; tail "$LOG" >&2; exit 1
}
start () {
  : > "$LOG"
  "$@" >> "$LOG" 2>&1 &
  PID=$!
  wait_for 'page start'
  WID=$(xdotool search --sync --onlyvisible --limit 1 --name 'Weft')
  eval "$(xdotool getwindowgeometry --shell "$WID")"
  sleep 0.5
}
stop () { kill $PID; wait $PID 2>/dev/null || true; PID=; }
# 1. start view
start env "$APP"
import -window "$WID" "$OUT/start.png"
stop

# 2. editor with GRAPH.weft, NODE (default trunk_1) selected so the inspector shows it
start env ADW_DEBUG_COLOR_SCHEME=prefer-light "$APP" "$3"
wait_for 'boxes done'
line=$(grep -E "box id=[0-9]+ name=${4:-trunk_1} " "$LOG" | tail -1)
read bx by < <(echo "$line" | sed -E 's/.* body=([-0-9]+),([-0-9]+).*/\1 \2/')
xdotool mousemove --sync $((X + bx)) $((Y + by)) click 1
wait_for 'selected 1'
sleep 0.5
import -window "$WID" "$OUT/editor.png"
stop

# 3. the same in the dark style
start env ADW_DEBUG_COLOR_SCHEME=prefer-dark "$APP" "$3"
wait_for 'boxes done'
xdotool mousemove --sync $((X + bx)) $((Y + by)) click 1
wait_for 'selected 1'
sleep 0.5
import -window "$WID" "$OUT/dark.png"
stop
