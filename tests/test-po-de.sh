#!/bin/bash
# test-po-de.sh SOURCE_DIR [WEFT LOCALE_DIR] (TAP): po/de.po is complete. The template is made
# afresh from po/POTFILES.in with the keywords of po/meson.build (meson's glib preset plus the
# extra args), de.po is merged against it, and any untranslated or fuzzy message or msgfmt
# --check error fails, so a new string without a German translation fails CI. Given the weft
# binary and the build's locale folder (BUILD/po), checks that the command line speaks German
# with LANGUAGE=de and English without it.
set -u
SRC=$1
WEFT=${2:-}
LOCALEDIR=${3:-}
cd "$SRC" || exit 1
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () {
  n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift
  for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in xgettext msgmerge msgfmt msgattrib; do
  if ! command -v $tool >/dev/null; then
    not_ok "$tool is installed (gettext tools are needed to check the translation)"
    echo "1..$n"
    exit 1
  fi
done

# meson's glib preset (mesonbuild/modules/i18n.py), then the extra args of po/meson.build
preset=(--from-code=UTF-8 --add-comments
  --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 --keyword=g_dcgettext:2
  --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format
  --flag=g_markup_printf_escaped:1:c-format --flag=g_log:3:c-format --flag=g_print:1:c-format
  --flag=g_printerr:1:c-format --flag=g_printf:1:c-format --flag=g_fprintf:2:c-format
  --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format)
mapfile -t extra < <(grep -o "'--[^']*'" po/meson.build | tr -d "'")

# 1. the template, as `meson compile weft-pot` makes it, but into a temporary folder
if out=$(xgettext --package-name=weft -f po/POTFILES.in -D "$SRC" -k_ -o "$tmp/weft.pot" \
           "${preset[@]}" "${extra[@]}" 2>&1) && [ -s "$tmp/weft.pot" ]; then
  ok "template regenerated from po/POTFILES.in ($(grep -c '^msgid ' "$tmp/weft.pot") entries, extra args: ${extra[*]})"
else
  not_ok "template regenerated from po/POTFILES.in" "$out"
  echo "1..$n"
  exit 1
fi

# 2. de.po as it is in the tree passes msgfmt --check
if out=$(msgfmt --check --check-accelerators=_ --statistics -o /dev/null po/de.po 2>&1); then
  ok "po/de.po passes msgfmt --check --check-accelerators=_ ($out)"
else
  not_ok "po/de.po passes msgfmt --check --check-accelerators=_" "$out"
fi

# 3. merged against the fresh template: nothing untranslated, nothing fuzzy
if ! out=$(msgmerge --quiet -o "$tmp/de.po" po/de.po "$tmp/weft.pot" 2>&1); then
  not_ok "po/de.po merges with the template" "$out"
  echo "1..$n"
  exit 1
fi
ok "po/de.po merges with the template"

# the first line of each message's msgid (the header, msgid "", left out)
msgids () {
  awk '/^msgid / { m = $0; if (m != "msgid \"\"") { print m; next }
                   getline n; if (n !~ /^msgstr/) print "msgid " n }' | head -20
}
untranslated=$(msgattrib --untranslated --no-obsolete --no-wrap "$tmp/de.po" | msgids)
if [ -z "$untranslated" ]; then ok "no untranslated message"
else not_ok "no untranslated message (translate these in po/de.po; first 20 shown)" "$untranslated"; fi

fuzzy=$(msgattrib --only-fuzzy --no-obsolete --no-wrap "$tmp/de.po" | msgids)
if [ -z "$fuzzy" ]; then ok "no fuzzy message"
else not_ok "no fuzzy message (the English changed: check these in po/de.po)" "$fuzzy"; fi

if out=$(msgfmt --check --check-accelerators=_ --statistics -o "$tmp/weft.mo" "$tmp/de.po" 2>&1) \
   && ! grep -q 'untranslated\|fuzzy' <<<"$out"; then
  ok "merged catalogue passes msgfmt --check --statistics ($out)"
else
  not_ok "merged catalogue passes msgfmt --check --statistics" "$out"
fi

# 4. the glossary stays at the top, and Keras identifiers stay English
if grep -q '^# Glossary' po/de.po; then ok "de.po starts with the glossary"
else not_ok "de.po starts with the glossary"; fi

# 5. the program speaks German with LANGUAGE=de (and English without)
if [ -z "$WEFT" ] || [ -z "$LOCALEDIR" ]; then
  echo "1..$n"
  exit $failed
fi
if [ ! -f "$LOCALEDIR/de/LC_MESSAGES/weft.mo" ]; then
  not_ok "the build made $LOCALEDIR/de/LC_MESSAGES/weft.mo"
  echo "1..$n"
  exit 1
fi
de () { env -u LC_ALL -u LC_MESSAGES LANGUAGE=de LANG=C.UTF-8 WEFT_LOCALEDIR="$LOCALEDIR" "$WEFT" "$@"; }
en () { env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=C.UTF-8 WEFT_LOCALEDIR="$LOCALEDIR" "$WEFT" "$@"; }

# expect NAME PATTERN TEXT
expect () {
  if grep -qF -- "$2" <<<"$3"; then ok "$1"
  else not_ok "$1" "expected: $2" "got:" "$(head -12 <<<"$3")"; fi
}

expect "weft --help in German" "Rückgabewert: 0 Erfolg" "$(de --help 2>&1)"
expect "weft --help in English without LANGUAGE" "Exit status: 0 success" "$(en --help 2>&1)"
expect "weft train --help: option descriptions in German" "Anzahl der Epochen" \
       "$(de train --help 2>&1)"
expect "weft train --help: description in German" "Trainiert das Hauptmodell von FILE" \
       "$(de train --help 2>&1)"
expect "usage error in German" "„weft validate --help“ gibt weitere Informationen." \
       "$(de validate 2>&1)"
FILES=$SRC/tests/data/files
expect "weft validate: a valid graph in German" "gültig, 49 Parameter" \
       "$(de validate "$FILES/small.weft" 2>&1)"
out=$(de validate "$FILES/unused-input.weft" 2>&1)
expect "weft validate: a warning in German" ": Warnung: " "$out"
expect "weft validate: warning count in German" "(1 Warnung)" "$out"
expect "weft validate: error location in German" "Knoten „sum“ (Add)" \
       "$(de validate "$FILES/invalid.weft" 2>&1)"
expect "weft validate: the same in English without LANGUAGE" "node 'sum' (Add)" \
       "$(en validate "$FILES/invalid.weft" 2>&1)"

echo "1..$n"
exit $failed
