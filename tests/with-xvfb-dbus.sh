#!/bin/bash
# usage: tests/with-xvfb-dbus.sh CMD...  -- private Xvfb + private D-Bus session, both torn down afterwards.
# The app's cache and data directories are private too, so that a user's autosaves or recent
# files never change what a test sees (and a test never leaves any behind).
set -u
dfile=$(mktemp)
xdg=$(mktemp -d)
export XDG_CACHE_HOME=$xdg/cache XDG_DATA_HOME=$xdg/data
mkdir -p "$XDG_CACHE_HOME" "$XDG_DATA_HOME"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp -noreset 3>"$dfile" 2>/dev/null &
xpid=$!
trap 'kill $xpid 2>/dev/null; wait $xpid 2>/dev/null; rm -rf "$dfile" "$xdg"' EXIT
for _ in $(seq 1 200); do [ -s "$dfile" ] && break; sleep 0.025; done
[ -s "$dfile" ] || { echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$(tr -d '\n' < "$dfile")" GDK_BACKEND=x11
unset WAYLAND_DISPLAY
# The bus and the services it starts (the accessibility registry announces itself on stdout)
# write to stderr; only the command's own output goes to stdout, where TAP is read.
exec 4>&1
dbus-run-session -- /bin/sh -c 'exec "$@" 1>&4 4>&-' sh "$@" 1>&2
