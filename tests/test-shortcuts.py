#!/usr/bin/python3
# test-shortcuts.py SOURCE_DIR (TAP): every keyboard shortcut of the app (the application's
# accelerators and the canvas' key bindings) is listed in the shortcuts window
# (resources/ui/weft-shortcuts.ui), and the window lists no shortcut that does not exist.
import re, sys, xml.etree.ElementTree as ET

src = sys.argv[1]
MASKS = {'GDK_CONTROL_MASK': '<ctrl>', 'GDK_SHIFT_MASK': '<shift>', 'GDK_ALT_MASK': '<alt>'}
# keys that are the same shortcut as one listed (keypad twin, US-layout twin of plus)
TWINS = {'kp_delete': 'delete', '<ctrl>equal': '<ctrl>plus'}

def norm(accel):
    a = accel.strip().lower().replace('<control>', '<ctrl>').replace('<primary>', '<ctrl>')
    mods = sorted(set(re.findall(r'<[a-z]+>', a)))
    key = re.sub(r'<[a-z]+>', '', a)
    out = ''.join(mods) + key
    return TWINS.get(out, out)

wanted = {}
app = open(src + '/app/weft-application.c').read()
for action, accels in re.findall(r'\{ "((?:app|win)\.[\w-]+)", \{ ([^}]*) \} \}', app):
    for a in re.findall(r'"([^"]+)"', accels):
        wanted[norm(a)] = action
canvas = open(src + '/ui/weft-graph-canvas.c').read()
for key, mask, action in re.findall(
        r'add_binding_action \(widget_class, GDK_KEY_(\w+),\s*([^,]+),\s*"([\w.-]+)"', canvas):
    mods = ''.join(MASKS[m.strip()] for m in mask.split('|') if m.strip() in MASKS)
    k = key.lower()
    if len(key) == 1 and key.isupper():   # GDK_KEY_F is Shift+f
        mods += '<shift>'
    wanted[norm(mods + k)] = action

listed = set()
tree = ET.parse(src + '/resources/ui/weft-shortcuts.ui')
for prop in tree.iter('property'):
    if prop.get('name') == 'accelerator' and prop.text:
        for a in prop.text.split():
            listed.add(norm(a))

n = 0
failed = False
missing = sorted(a for a in wanted if a not in listed)
n += 1
if missing:
    failed = True
    print('not ok %d - every shortcut is in the shortcuts window' % n)
    for a in missing:
        print('# missing: %s (%s)' % (a, wanted[a]))
else:
    print('ok %d - every shortcut is in the shortcuts window (%d shortcuts)' % (n, len(wanted)))
# GTK's own: F10 opens the primary menu
extra = sorted(a for a in listed if a not in wanted and a not in ('f10',))
n += 1
if extra:
    failed = True
    print('not ok %d - the shortcuts window lists only real shortcuts' % n)
    for a in extra:
        print('# not bound: %s' % a)
else:
    print('ok %d - the shortcuts window lists only real shortcuts' % n)
print('1..%d' % n)
sys.exit(1 if failed else 0)
