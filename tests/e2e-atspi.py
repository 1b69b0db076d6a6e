#!/usr/bin/python3
# e2e-atspi.py WEFT_EXE: starts the editor (run under tests/with-xvfb-dbus.sh), walks the
# AT-SPI tree of the start view, opens an example through its gallery button (an AT-SPI
# action), selects a node with the keyboard, checks that the canvas describes the selected
# node, and walks the tree again with the inspector's controls: fails on any unnamed control.
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

TIPPED = {
    Atspi.Role.PUSH_BUTTON, Atspi.Role.TOGGLE_BUTTON, Atspi.Role.CHECK_BOX, Atspi.Role.SPIN_BUTTON,
    Atspi.Role.COMBO_BOX, Atspi.Role.ENTRY, Atspi.Role.TEXT, Atspi.Role.PAGE_TAB,
}
untipped = []

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
    # every control explains itself in a tooltip (GTK exposes it as the description); the
    # toggle inside a drop-down shares the drop-down's
    if (role in TIPPED and not (a.get_description() or '').strip()
            and not path.endswith('/combo box')):
        untipped.append(here + ' ' + repr(name))
    for i in range(a.get_child_count()):
        c = a.get_child_at_index(i)
        if c is not None:
            walk(c, here, out)

def find(a, pred):
    try:
        if pred(a):
            return a
        for i in range(a.get_child_count()):
            c = a.get_child_at_index(i)
            if c is not None:
                r = find(c, pred)
                if r is not None:
                    return r
    except Exception:
        pass
    return None

def wait_for(pred, limit=10.0):
    end = time.time() + limit
    while time.time() < end:
        r = pred()
        if r:
            return r
        time.sleep(0.1)
    return None

def check_named(node, what):
    controls = []
    del untipped[:]
    walk(node, '', controls)
    unnamed = [p for p, n in controls if not n.strip()]
    print('%s: controls: %d, unnamed: %d, without tooltip: %d' % (what, len(controls), len(unnamed),
                                                               len(untipped)))
    for p in unnamed:
        print('UNNAMED', p)
    for p in untipped:
        print('NO TOOLTIP', p)
    if len(controls) < 5:
        print('FAIL: too few controls found in the %s; the walk did not see the window' % what)
        return False
    return not unnamed and not untipped

def main():
    env = dict(os.environ, GSETTINGS_BACKEND='memory', WEFT_TEST_HOOK='1', GSK_RENDERER='cairo')
    env.pop('GTK_A11Y', None)
    app = subprocess.Popen([sys.argv[1]], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    ok = True
    try:
        node = find_app('weft')
        if node is None:
            print('FAIL: the app did not appear on the accessibility bus')
            return 1
        time.sleep(1.0)   # the tree fills in after mapping
        ok &= check_named(node, 'start view')

        # open a copy of the three-heads example through its gallery button
        button = wait_for(lambda: find(node, lambda a: a.get_role() == Atspi.Role.PUSH_BUTTON
                                       and 'Three heads' in (a.get_name() or '')))
        if button is None:
            print('FAIL: no gallery button for the three-heads example')
            return 1
        Atspi.Action.do_action(button, 0)
        canvas = wait_for(lambda: find(node, lambda a: a.get_name() == 'Graph canvas'
                                       and a.get_state_set().contains(Atspi.StateType.VISIBLE)))
        if canvas is None:
            print('FAIL: the editor did not open')
            return 1
        print('canvas description before:', canvas.get_description())

        # select the first node with the keyboard (the editor focuses the canvas when it
        # opens; AT-SPI cannot send keys to GTK 4, so the X server gets them from xdotool)
        time.sleep(0.3)
        subprocess.run(['xdotool', 'search', '--sync', '--onlyvisible', '--name', 'Three heads',
                        'windowfocus', '--sync'], check=False, timeout=10)
        desc = None
        for _ in range(8):   # Right until a Dense node (spin, drop-down and switches) is selected
            before = canvas.get_description() or ''
            subprocess.run(['xdotool', 'key', 'Right'], check=False, timeout=10)
            desc = wait_for(lambda: (canvas.get_description() or '') if
                            (canvas.get_description() or '') != before else None, 5)
            if not desc or not desc.startswith('Selected'):
                print('FAIL: the canvas does not describe the selected node: %r' % desc)
                return 1
            print('canvas description after Right:', desc)
            if '(Dense)' in desc:
                break
        if '(Dense)' not in desc:
            print('FAIL: the arrow keys never reached a Dense node')
            return 1

        # the inspector shows the node's controls, all named
        name_entry = wait_for(lambda: find(node, lambda a: a.get_role() in (Atspi.Role.ENTRY, Atspi.Role.TEXT)
                                           and a.get_state_set().contains(Atspi.StateType.VISIBLE)
                                           and 'name' in (a.get_name() or '').lower()), 5)
        if name_entry is None:
            print('FAIL: the inspector shows no name field for the selected node')
            ok = False
        ok &= check_named(node, 'editor with inspector')
        return 0 if ok else 1
    finally:
        app.terminate()
        app.wait(5)

sys.exit(main())
