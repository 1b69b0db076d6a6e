#!/usr/bin/python3
# e2e-atspi.py WEFT_EXE: starts the editor (run under tests/with-xvfb-dbus.sh), selects a
# Dense node so the inspector shows its controls, walks the AT-SPI tree and fails when any
# control has no accessible name.
import os, subprocess, sys, time
import gi
gi.require_version('Atspi', '2.0')
from gi.repository import Atspi

CONTROLS = {
    Atspi.Role.PUSH_BUTTON, Atspi.Role.TOGGLE_BUTTON, Atspi.Role.CHECK_BOX, Atspi.Role.SWITCH
    if hasattr(Atspi.Role, 'SWITCH') else Atspi.Role.CHECK_BOX,
    Atspi.Role.SPIN_BUTTON, Atspi.Role.COMBO_BOX, Atspi.Role.ENTRY, Atspi.Role.TEXT,
    Atspi.Role.RADIO_BUTTON, Atspi.Role.SLIDER, Atspi.Role.LIST, Atspi.Role.LIST_BOX,
    Atspi.Role.MENU_ITEM, Atspi.Role.PAGE_TAB,
}

def find_app(name, limit=15.0):
    end = time.time() + limit
    while time.time() < end:
        desk = Atspi.get_desktop(0)
        for i in range(desk.get_child_count()):
            a = desk.get_child_at_index(i)
            if a is not None and a.get_name() == name:
                return a
        time.sleep(0.1)
    return None

def walk(a, path, out):
    try:
        role = a.get_role()
        name = a.get_name() or ''
        states = a.get_state_set()
    except Exception:
        return
    if role != Atspi.Role.APPLICATION and not states.contains(Atspi.StateType.VISIBLE):
        return
    here = path + '/' + a.get_role_name()
    if role in CONTROLS:
        out.append((here, name))
    for i in range(a.get_child_count()):
        c = a.get_child_at_index(i)
        if c is not None:
            walk(c, here, out)

def main():
    env = dict(os.environ, GSETTINGS_BACKEND='memory', WEFT_TEST_HOOK='1', GSK_RENDERER='cairo')
    env.pop('GTK_A11Y', None)
    app = subprocess.Popen([sys.argv[1]], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    try:
        node = find_app('weft')
        if node is None:
            print('FAIL: the app did not appear on the accessibility bus')
            return 1
        time.sleep(1.0)   # the tree fills in after mapping
        controls = []
        walk(node, '', controls)
        unnamed = [p for p, n in controls if not n.strip()]
        print('controls: %d, unnamed: %d' % (len(controls), len(unnamed)))
        for p in unnamed:
            print('UNNAMED', p)
        if len(controls) < 10:
            print('FAIL: too few controls found; the walk did not see the window')
            return 1
        return 1 if unnamed else 0
    finally:
        app.terminate()
        app.wait(5)

sys.exit(main())
