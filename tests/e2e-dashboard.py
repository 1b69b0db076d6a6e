#!/usr/bin/python3
# e2e-dashboard.py WEFT_EXE [ARTEFACT_DIR]: the training dashboard in the real window (run it
# under tests/with-xvfb-dbus.sh). A file trained once by `weft train` is opened; the header
# bar's Train button starts training (AT-SPI); after several epochs Stop; the history must hold
# every head and the chart must have been rendered with curves (offscreen PNG); Continue adds
# epochs to the same run; Ctrl+S saves; reopening shows the saved history. TAP output.
import json, os, queue, re, shutil, subprocess, sys, tempfile, threading, time
try:
    import gi
    gi.require_version('Atspi', '2.0')
    from gi.repository import Atspi
except Exception as e:  # pragma: no cover
    print('1..0 # SKIP no AT-SPI: %s' % e)
    sys.exit(0)

APP = sys.argv[1]
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.getcwd(), 'e2e-dashboard')
os.makedirs(OUT, exist_ok=True)
if not os.environ.get('DISPLAY') or shutil.which('xdotool') is None:
    print('1..0 # SKIP no display or no xdotool')
    sys.exit(0)

tests = []
def ok(cond, what):
    tests.append((bool(cond), what))
    print('%s %d - %s' % ('ok' if cond else 'not ok', len(tests), what), flush=True)
    return cond

class App:
    def __init__(self, args, env):
        self.log = open(os.path.join(OUT, 'app-%d.log' % time.time_ns()), 'w')
        self.proc = subprocess.Popen([APP] + args, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()
    def _read(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            self.lines.put(line.rstrip('\n'))
    def wait(self, regex, limit=30.0):
        end = time.time() + limit
        rx = re.compile(regex)
        while time.time() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            m = rx.search(line)
            if m:
                return m
        raise TimeoutError('no line matching %r; last lines: %s' % (regex, self.seen[-8:]))
    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

def find_app(limit=20.0):
    end = time.time() + limit
    while time.time() < end:
        desk = Atspi.get_desktop(0)
        for i in range(desk.get_child_count()):
            a = desk.get_child_at_index(i)
            if a is not None and a.get_name() == 'weft':
                return a
        time.sleep(0.1)
    raise TimeoutError('the app does not show on the accessibility bus')

def find(a, role, name):
    try:
        if a.get_role() == role and re.fullmatch(name, a.get_name() or ''):
            return a
        for i in range(a.get_child_count()):
            c = a.get_child_at_index(i)
            if c is not None:
                r = find(c, role, name)
                if r is not None:
                    return r
    except Exception:
        pass
    return None

def click(app, name, limit=10.0):
    """Clicks the sensitive push button whose accessible name fully matches the regex."""
    end = time.time() + limit
    while time.time() < end:
        b = find(app, Atspi.Role.PUSH_BUTTON, name)
        if b is not None and b.get_state_set().contains(Atspi.StateType.SENSITIVE):
            Atspi.Action.do_action(b, 0)
            return
        time.sleep(0.1)
    raise TimeoutError('no sensitive button %r' % name)

def main():
    work = tempfile.mkdtemp()
    env = dict(os.environ, GSETTINGS_BACKEND='memory', WEFT_TEST_HOOK='1', GSK_RENDERER='cairo',
               GDK_BACKEND='x11', WEFT_TEST_CHART_PNG=os.path.join(OUT, 'chart.png'))
    env.pop('GTK_A11Y', None)
    model = os.path.join(work, 'model.weft')
    # a file as `weft train` leaves it: trained one epoch, with its history (run 0)
    r = subprocess.run([APP, 'train', 'three-heads', '--epochs', '1', '--samples', '512',
                        '-o', model], env=env, capture_output=True, text=True)
    if not ok(r.returncode == 0, 'weft train writes a trained file with history'):
        print('# ' + r.stdout + r.stderr)
        return
    # many epochs so Stop really interrupts; the window trains what the file says
    doc = json.load(open(model))
    doc['training']['epochs'] = 100000
    json.dump(doc, open(model, 'w'), indent=2)

    app = App([model], env)
    try:
        # the dashboard picks the document's history when the file is opened, before drawing
        m = app.wait(r'history shown heads=(\d+) runs=(\d+) steps=(\d+)', 30)
        app.wait('first frame', 30)
        ok(m.group(1) == '3' and m.group(2) == '1', 'the file\'s history is shown (3 heads, 1 run)')
        steps0 = int(m.group(3))
        acc = find_app()
        # the header bar's Train button (GTK 4.8 joins the accessible label and the text)
        click(acc, r'_?Train( Train)?')
        app.wait('training started', 10)
        app.wait(r'training epoch=3 ', 60)
        click(acc, r'Stop training( Stop)?')
        m = app.wait(r'training finished runs=(\d+) curves=(\d+) points=(\d+) png=(\S+) status=(.*)', 30)
        ok(m.group(1) == '2', 'training added a second run to the history')
        ok(m.group(2) == '4' and int(m.group(3)) > 0,
           'the chart has curves for the 3 heads and the total (%s points)' % m.group(3))
        ok('stopped' in m.group(5), 'the status says training stopped: %s' % m.group(5))
        png = m.group(4)
        size = os.path.getsize(png) if os.path.exists(png) else 0
        ok(size > 5000, 'the chart rendered offscreen to PNG (%d bytes)' % size)
        if shutil.which('convert'):
            colours = subprocess.run(['convert', png, '-format', '%k', 'info:'],
                                     capture_output=True, text=True).stdout.strip()
            ok(colours.isdigit() and int(colours) > 50, 'the PNG is not blank (%s colours)' % colours)
        shutil.copy(png, os.path.join(OUT, 'chart-after-stop.png'))

        click(acc, r'Continue training( Continue)?')
        m = app.wait(r'training epoch=(\d+) heads=3 steps=(\d+)', 30)
        app.wait(r'training epoch=\d+ ', 30)
        click(acc, r'Stop training( Stop)?')
        m = app.wait(r'training finished runs=(\d+) curves=(\d+) points=(\d+)', 30)
        ok(m.group(1) == '2', 'continue trains on in the same run')
        points = int(m.group(3))

        wid = subprocess.run(['xdotool', 'search', '--sync', '--onlyvisible', '--limit', '1',
                              '--name', 'model'], capture_output=True, text=True).stdout.split()
        if wid:
            subprocess.run(['xdotool', 'windowfocus', '--sync', wid[0]])
            subprocess.run(['import', '-window', wid[0], os.path.join(OUT, 'window.png')])
        subprocess.run(['xdotool', 'key', 'ctrl+s'])
        app.wait('^weft-test: saved', 15)
        ok(True, 'Ctrl+S saved the file')
    except TimeoutError as e:
        ok(False, str(e))
        return
    finally:
        app.stop()

    app = App([model], env)
    try:
        m = app.wait(r'history shown heads=(\d+) runs=(\d+) steps=(\d+)', 30)
        ok(m.group(1) == '3' and m.group(2) == '2' and int(m.group(3)) > steps0,
           'reopened: the saved history has both runs (%s steps)' % m.group(3))
    except TimeoutError as e:
        ok(False, str(e))
    finally:
        app.stop()
    shutil.rmtree(work, ignore_errors=True)

main()
print('1..%d' % len(tests))
sys.exit(0 if all(c for c, _ in tests) else 1)
