#!/bin/bash
# e2e-autosave.sh WEFT_EXE [ARTEFACT_DIR]: crash recovery end to end (run it under
# tests/with-xvfb-dbus.sh). Opens a graph, drags a Dense onto the canvas, waits until the
# autosave is written (autosave-interval = 1 s through a keyfile GSettings backend in a private
# XDG_CONFIG_HOME; the autosave goes to a private XDG_CACHE_HOME), kills the app with SIGKILL,
# starts it again and expects the restore offer for that autosave (test hook and AT-SPI);
# a second instance started meanwhile must not offer the first one's live autosave; Restore
# brings back the Dense (unsaved, titled like the original), Ctrl+S writes the original and
# removes the leftover; a second crash's leftover is then discarded (files gone) and the next
# start offers nothing. TAP output.
set -u
APP=$1
OUT=${2:-$PWD/e2e-autosave}
mkdir -p "$OUT"
rm -f "$OUT"/*.png "$OUT"/*.log
for tool in xdotool import; do
  command -v $tool >/dev/null || { echo "1..0 # SKIP $tool missing"; exit 0; }
done
[ -n "${DISPLAY:-}" ] || { echo "1..0 # SKIP no display"; exit 0; }

WORK=$(mktemp -d)
command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import gi; gi.require_version("Atspi", "2.0")' 2>/dev/null \
  || { echo "1..0 # SKIP no AT-SPI"; exit 0; }
# GTK_A11Y unset: the offer's buttons are clicked through AT-SPI
unset GTK_A11Y
export WEFT_TEST_HOOK=1 GSK_RENDERER=cairo GDK_BACKEND=x11
export GSETTINGS_BACKEND=keyfile XDG_CONFIG_HOME=$WORK/config XDG_CACHE_HOME=$WORK/cache
mkdir -p "$XDG_CONFIG_HOME/glib-2.0/settings" "$XDG_CACHE_HOME"
printf '[org/weft/Weft]\nautosave-interval=uint32 1\n' > "$XDG_CONFIG_HOME/glib-2.0/settings/keyfile"
LOG=$OUT/app.log
PID=
PID2=
cleanup () {
  [ -n "$PID" ] && kill -9 $PID 2>/dev/null
  [ -n "$PID2" ] && kill -9 $PID2 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

fail () {
  echo "not ok - $*"
  echo "# --- app log:"; tail -40 "$LOG" | sed 's/^/# /'
  import -window root "$OUT/failure.png" 2>/dev/null
  exit 1
}
. "$(dirname "$0")/e2e-lib.sh"
write_graph "$WORK/graph.weft"

start_app () {
  : > "$LOG"
  "$APP" "$@" >> "$LOG" 2>&1 &
  PID=$!
  # every start looks for leftovers once its first window is up
  wait_for 0 'autosave leftovers [0-9]+' 20
}

# Clicks, through AT-SPI, the button of process $1 whose accessible name starts with $2
# (GTK 4.8 appends the label text to a button's accessible label).
atspi_click () {
  /usr/bin/python3 - "$1" "$2" <<'PY' || fail "AT-SPI: no button '$2'"
import sys, time
import gi
gi.require_version('Atspi', '2.0')
from gi.repository import Atspi
pid, name = int(sys.argv[1]), sys.argv[2]
def find(a):
    try:
        if a.get_role() == Atspi.Role.PUSH_BUTTON and (a.get_name() or "").startswith(name):
            return a
        for i in range(a.get_child_count()):
            c = a.get_child_at_index(i)
            r = find(c) if c is not None else None
            if r is not None:
                return r
    except Exception:
        pass
    return None
end = time.time() + 20
while time.time() < end:
    desk = Atspi.get_desktop(0)
    for i in range(desk.get_child_count()):
        app = desk.get_child_at_index(i)
        try:
            if app is None or app.get_process_id() != pid:
                continue
        except Exception:
            continue
        b = find(app)
        if b is not None and b.get_state_set().contains(Atspi.StateType.SENSITIVE):
            Atspi.Action.do_action(b, 0)
            sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
PY
}

# Drags a Dense from the palette onto the canvas, beside the input x.
drop_dense () {
  local m ix iy dx=$1
  WID=$(xdotool search --sync --onlyvisible --limit 1 --name 'graph\.weft')
  [ -n "$WID" ] || fail "no window"
  eval "$(xdotool getwindowgeometry --shell "$WID")"
  xdotool windowfocus --sync "$WID" 2>/dev/null
  read ix iy < <(box 0 x | field - body)
  m=$(mark)
  drag_from_palette Dense $((ix + dx)) $((iy + 20))
  wait_for $m 'drop Dense id=[0-9]+'
}

crash () {
  kill -9 $PID; wait $PID 2>/dev/null; PID=
}

CACHE=$XDG_CACHE_HOME/weft/autosave
echo "1..8"
# 1. an edit is autosaved
start_app "$WORK/graph.weft"
wait_for 0 'boxes done' 10
wait_for 0 'autosave leftovers 0' 10
m=$(mark)
drop_dense 300
wait_for $m 'autosave written [-0-9a-f]+' 10
ID=$(last $m 'autosave written' | sed -E 's/.*autosave written ([-0-9a-f]+).*/\1/')
[ -f "$CACHE/$ID.weft" ] || fail "no autosave file for $ID"
echo "ok 1 - the edit was autosaved as $ID"

# 2. kill -9, start again: the restore is offered, naming the graph
crash
[ -f "$CACHE/$ID.weft" ] || fail "the autosave did not survive the kill"
start_app
wait_for 0 'autosave leftovers 1' 10
wait_for 0 "restore offered $ID" 10
sleep 0.5
import -window root "$OUT/restore-offer.png" 2>/dev/null
echo "ok 2 - after kill -9 the restart offers to restore $ID"

# 3. a second instance meanwhile: the offer is the first one's, not offered twice
LOG2=$OUT/app2.log
"$APP" > "$LOG2" 2>&1 &
PID2=$!
for _ in $(seq 1 200); do grep -q 'autosave leftovers' "$LOG2" && break; sleep 0.05; done
grep -q 'autosave leftovers 0' "$LOG2" || { LOG=$LOG2; fail "the second instance offers: $(grep 'autosave leftovers' "$LOG2")"; }
kill $PID2; wait $PID2 2>/dev/null; PID2=
echo "ok 3 - a second instance does not offer what the first one offers"

# 4. Restore: the Dense is back, unsaved, under the original's name
m=$(mark)
atspi_click $PID "Restore “graph.weft”"
wait_for $m "autosave restored $ID nodes=2" 10
wait_for $m 'boxes done 2' 10
xdotool search --sync --onlyvisible --limit 1 --name '^• graph\.weft$' >/dev/null || fail "restored window is not marked unsaved"
import -window root "$OUT/restored.png" 2>/dev/null
[ -f "$CACHE/$ID.weft" ] || fail "the leftover was deleted before the restored graph was saved"
# and while this restored work is live, another instance does not offer it
"$APP" > "$LOG2" 2>&1 &
PID2=$!
for _ in $(seq 1 200); do grep -q 'autosave leftovers' "$LOG2" && break; sleep 0.05; done
grep -q 'autosave leftovers 0' "$LOG2" || { LOG=$LOG2; fail "another instance offers the live restored work"; }
kill $PID2; wait $PID2 2>/dev/null; PID2=
echo "ok 4 - Restore brings back the Dense, unsaved; no other instance offers it"

# 5. Ctrl+S writes the original file and removes the leftover
m=$(mark)
WID=$(xdotool search --sync --onlyvisible --limit 1 --name 'graph\.weft')
xdotool windowfocus --sync "$WID" 2>/dev/null
xdotool key ctrl+s
wait_for $m '^weft-test: saved$' 10
grep -q '"Dense"' "$WORK/graph.weft" || fail "the original file has no Dense after saving the restored graph"
for _ in $(seq 1 40); do [ -f "$CACHE/$ID.weft" ] || break; sleep 0.05; done
[ -f "$CACHE/$ID.weft" ] && fail "the leftover is still there after the save"
echo "ok 5 - saving the restored graph writes the original and removes the leftover"

# 6. another edit, another crash: Discard deletes the leftover
m=$(mark)
drop_dense 300
wait_for $m 'autosave written [-0-9a-f]+' 10
ID2=$(last $m 'autosave written' | sed -E 's/.*autosave written ([-0-9a-f]+).*/\1/')
crash
[ -f "$CACHE/$ID2.weft" ] || fail "the second autosave did not survive the kill"
start_app
wait_for 0 "restore offered $ID2" 10
m=$(mark)
atspi_click $PID "Discard “graph.weft”"
wait_for $m "restore declined $ID2" 10
ls "$CACHE"/$ID2.* >/dev/null 2>&1 && fail "Discard left files: $(ls "$CACHE")"
echo "ok 6 - Discard deletes the leftover"

# 7. the original changes after the autosave: restored, Save asks where instead of overwriting
crash
start_app "$WORK/graph.weft"
wait_for 0 'boxes done' 10
m=$(mark)
drop_dense 300
wait_for $m 'autosave written [-0-9a-f]+' 10
ID3=$(last $m 'autosave written' | sed -E 's/.*autosave written ([-0-9a-f]+).*/\1/')
crash
cp "$WORK/graph.weft" "$WORK/before.weft"
touch -d '2001-01-01 00:00' "$WORK/graph.weft"
start_app
wait_for 0 "restore offered $ID3" 10
m=$(mark)
atspi_click $PID "Restore “graph.weft”"
wait_for $m "autosave restored $ID3" 10
wait_for $m 'toast .*changed since the autosave' 10
WID=$(xdotool search --sync --onlyvisible --limit 1 --name 'graph\.weft')
xdotool windowfocus --sync "$WID" 2>/dev/null
xdotool key ctrl+s
# the file chooser's first appearance: up to 20 s (it missed 5 s once in a full CI run of the
# ASan build, with other GUI tests sharing the two CPUs)
for _ in $(seq 1 400); do xdotool search --onlyvisible --name '^Save Graph$' >/dev/null 2>&1 && break; sleep 0.05; done
xdotool search --onlyvisible --name '^Save Graph$' >/dev/null 2>&1 || fail "Save did not ask where to save"
import -window root "$OUT/save-asks.png" 2>/dev/null
tail -n +$((m + 1)) "$LOG" | grep -q '^weft-test: saved$' && fail "Save overwrote the changed original"
cmp -s "$WORK/graph.weft" "$WORK/before.weft" || fail "the original was written"
xdotool key Escape
[ -f "$CACHE/$ID3.weft" ] || fail "the leftover went before the user chose"
echo "ok 7 - restored over an original changed since, Save asks where to save"

# 8. not decided: offered again at the next start; Discard; then nothing is offered
crash
start_app
wait_for 0 "restore offered $ID3" 10
m=$(mark)
atspi_click $PID "Discard “graph.weft”"
wait_for $m "restore declined $ID3" 10
crash
start_app
wait_for 0 'autosave leftovers 0' 10
[ -z "$(ls -A "$CACHE" 2>/dev/null | grep -v '\.lock$')" ] || fail "files left in the cache: $(ls "$CACHE")"
echo "ok 8 - an undecided leftover is offered again; once discarded, nothing is offered"
