#!/bin/bash
# test-po.sh SOURCE_DIR (TAP): po/POTFILES.in lists every source file with translatable
# strings (C files using _(), N_(), C_(), NC_(), g_dngettext/ngettext or the engine's
# WEFT_N_(); .ui files with translatable="yes"; the GSettings schema, .desktop and metainfo),
# sorted, each existing; and xgettext extracts the catalogue, plural undo names included.
set -u
SRC=$1
cd "$SRC" || exit 1
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

listed=$(grep -v '^\s*#' po/POTFILES.in | sed '/^\s*$/d')

# files that need to be listed
need=$( {
  grep -rlE '(^|[^A-Za-z0-9_])(_|N_|C_|NC_|WEFT_N_|g_dngettext|g_dpgettext2|ngettext)[[:space:]]*\("' \
       --include='*.c' app ui engine 2>/dev/null
  grep -rl 'translatable="yes"' --include='*.ui' resources 2>/dev/null
  ls resources/*.gschema.xml resources/*.desktop.in resources/*.metainfo.xml.in \
     resources/*.mime.xml 2>/dev/null
} | sort -u)

missing=$(comm -23 <(echo "$need") <(echo "$listed" | sort -u))
if [ -z "$missing" ]; then ok "every file with translatable strings is in po/POTFILES.in ($(echo "$need" | wc -l) files)"
else not_ok "files with translatable strings missing from po/POTFILES.in" $missing; fi

absent=
for f in $listed; do [ -f "$f" ] || absent="$absent $f"; done
if [ -z "$absent" ]; then ok "every file in po/POTFILES.in exists"
else not_ok "files in po/POTFILES.in that do not exist" $absent; fi

if [ "$listed" = "$(echo "$listed" | LC_ALL=C sort)" ]; then ok "po/POTFILES.in is sorted"
else not_ok "po/POTFILES.in is sorted" "$(diff <(echo "$listed") <(echo "$listed" | LC_ALL=C sort) | head -5)"; fi

if ! command -v xgettext >/dev/null; then
  ok "xgettext extracts the catalogue # SKIP xgettext missing"
else
  pot=$(mktemp)
  trap 'rm -f "$pot"' EXIT
  # the keywords of meson's glib preset plus the engine's WEFT_N_
  if out=$(xgettext --from-code=UTF-8 --add-comments=TRANSLATORS --keyword=_ --keyword=N_ \
             --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 \
             --keyword=g_dpgettext2:2c,3 --keyword=WEFT_N_ --flag=N_:1:pass-c-format \
             --flag=g_dngettext:2:pass-c-format -f po/POTFILES.in -o "$pot" 2>&1); then
    ok "xgettext extracts $(grep -c '^msgid ' "$pot") messages"
  else
    not_ok "xgettext extracts the catalogue" "$out"
  fi
  for plural in "Move %d nodes" "Delete %d nodes" "Paste %d nodes" "Duplicate %d nodes"; do
    if grep -q "^msgid_plural \"$plural\"" "$pot"; then ok "plural undo name '$plural' extracted"
    else not_ok "plural undo name '$plural' extracted"; fi
  done
  for probe in "Welcome to Weft" "Colour scheme" "Neural Network Designer" \
               "Design neural networks as graphs and train them" "Weft neural network graph"; do
    if grep -qF "msgid \"$probe\"" "$pot"; then ok "'$probe' extracted"
    else not_ok "'$probe' extracted"; fi
  done
fi

echo "1..$n"
exit $failed
