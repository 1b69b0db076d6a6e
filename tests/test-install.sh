#!/bin/bash
# test-install.sh BUILD_DIR SOURCE_DIR (TAP): the desktop integration files validate, and
# `meson install --destdir` gives a Weft that runs from the installed location and finds its
# schema, examples and data there. Run it under tests/with-xvfb-dbus.sh to also start the
# installed editor window.
set -u
BUILD=$1
SRC=$2
APP_ID=org.weft.Weft
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check () { local what=$1; shift; local out; if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what" "$out"; fi; }

WORK=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT

for tool in desktop-file-validate appstreamcli xmllint update-mime-database glib-compile-schemas; do
  command -v $tool >/dev/null || { echo "1..0 # SKIP $tool missing"; exit 0; }
done

check "desktop file validates" desktop-file-validate "$BUILD/resources/$APP_ID.desktop"
check "metainfo validates (appstreamcli --no-net)" \
  appstreamcli validate --no-net --pedantic "$BUILD/resources/$APP_ID.metainfo.xml"
check "MIME description is well-formed XML" xmllint --noout "$SRC/resources/$APP_ID.mime.xml"
check "GSettings schema compiles strictly" \
  glib-compile-schemas --strict --dry-run "$SRC/resources"

# every key has a summary, a description and a range or choices (an enum is a choice list)
keys=$(xmllint --xpath 'count(//schema/key)' "$SRC/resources/$APP_ID.gschema.xml")
bad=$(xmllint --xpath 'count(//schema/key[not(summary) or not(description) or (not(range) and not(choices) and not(@enum) and @type!="b" and @type!="as")])' \
      "$SRC/resources/$APP_ID.gschema.xml")
if [ "$keys" -ge 11 ] && [ "$bad" = 0 ]; then ok "all $keys schema keys documented with a range or choices"
else not_ok "schema keys documented" "keys=$keys undocumented=$bad"; fi

# the screenshots named in the metainfo are committed
missing=
for f in $(grep -o 'resources/screenshots/[a-z-]*\.png' "$SRC/resources/$APP_ID.metainfo.xml.in"); do
  [ -s "$SRC/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "metainfo screenshots exist in resources/screenshots"
else not_ok "metainfo screenshots exist" "missing:$missing"; fi

# shared-mime-info: *.weft is application/x-weft, by name and by content
mkdir -p "$WORK/mime/packages"
cp "$SRC/resources/$APP_ID.mime.xml" "$WORK/mime/packages/$APP_ID.xml"
if out=$(update-mime-database "$WORK/mime" 2>&1) && grep -q '^50:application/x-weft:\*\.weft$' "$WORK/mime/globs2" \
   && [ -f "$WORK/mime/application/x-weft.xml" ]; then
  ok "update-mime-database registers application/x-weft for *.weft"
else
  not_ok "update-mime-database registers application/x-weft" "$out" "$(cat "$WORK/mime/globs2" 2>/dev/null | head -5)"
fi

# install into a temporary root
DEST=$WORK/root
if out=$(meson install -C "$BUILD" --no-rebuild --quiet --destdir "$DEST" 2>&1); then
  ok "meson install --destdir"
else
  not_ok "meson install --destdir" "$(echo "$out" | tail -20)"
  echo "1..$n"; exit 1
fi
PREFIX=$(meson introspect "$BUILD" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
DATADIR=$(meson introspect "$BUILD" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="datadir"))')
ROOT=$DEST$PREFIX
SHARE=$ROOT/$DATADIR
missing=
for f in bin/weft; do [ -x "$ROOT/$f" ] || missing="$missing $f"; done
for f in applications/$APP_ID.desktop metainfo/$APP_ID.metainfo.xml \
         icons/hicolor/scalable/apps/$APP_ID.svg icons/hicolor/symbolic/apps/$APP_ID-symbolic.svg \
         glib-2.0/schemas/$APP_ID.gschema.xml weft/schemas/gschemas.compiled \
         mime/packages/$APP_ID.xml weft/examples/three-heads.weft weft/data/digits.csv.gz; do
  [ -s "$SHARE/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "installed binary, desktop file, metainfo, icons, schema, MIME, examples, data"
else not_ok "installed files" "missing:$missing"; fi
check "installed desktop file validates" desktop-file-validate "$SHARE/applications/$APP_ID.desktop"
check "installed icons are well-formed SVG" xmllint --noout "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg" \
  "$SHARE/icons/hicolor/symbolic/apps/$APP_ID-symbolic.svg"

# run the installed binary, away from the build and source trees
cd "$WORK"
if out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$ROOT/bin/weft" --version 2>&1) && echo "$out" | grep -q "0\.[0-9]"; then
  ok "installed weft --version: $(echo "$out" | head -1)"
else
  not_ok "installed weft --version" "$out"
fi
if out=$(env -u DISPLAY -u WAYLAND_DISPLAY "$ROOT/bin/weft" summary "$SHARE/weft/examples/mlp.weft" 2>&1) \
   && echo "$out" | grep -q "Total params"; then
  ok "installed weft summary of an installed example"
else
  not_ok "installed weft summary of an installed example" "$out"
fi

# the editor starts from the installed location: its schema is found beside the binary
if [ -n "${DISPLAY:-}" ]; then
  LOG=$WORK/app.log
  # only the system directories, where this build is not installed
  env -u GSETTINGS_SCHEMA_DIR XDG_DATA_DIRS=/usr/share GSETTINGS_BACKEND=memory WEFT_TEST_HOOK=1 \
      GSK_RENDERER=cairo GTK_A11Y=none "$ROOT/bin/weft" > "$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do grep -q 'page start' "$LOG" && break; kill -0 $PID 2>/dev/null || break; sleep 0.05; done
  if grep -q 'page start' "$LOG" && grep -q 'schema from .*/bin/\.\./share/weft/schemas' "$LOG" \
     && ! grep -qi 'critical\|error' "$LOG"; then
    ok "installed editor window starts and finds its schema beside the binary"
  else
    not_ok "installed editor window starts" "$(tail -5 "$LOG")"
  fi
  kill $PID 2>/dev/null; wait $PID 2>/dev/null; PID=
else
  ok "installed editor window starts # SKIP no display"
fi

echo "1..$n"
exit $failed
