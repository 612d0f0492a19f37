"""End-to-end check of the `ix` REPL helpers: drives `introspect` through a pseudo-terminal on
the simulated subject and checks that ix.help(), ix.use, ix.contexts, ix.choose, ix.report and
ix.measure print aligned tables at the prompt, and that a bad option is reported by name."""
import os
import pty
import re
import select
import signal
import sys
import tempfile
import time

BIN = os.environ.get("INTROSPECT_BIN", "build/introspect")
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail))


class Repl:
    def __init__(self, home):
        env = dict(os.environ, HOME=home, TERM="dumb", INTROSPECT_HISTORY="")
        env.pop("LUA_INIT", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(BIN, [BIN], env)
        self.out = b""

    def ask(self, line, timeout=20.0):
        """Sends a line (None: nothing) and returns the output up to the next prompt (without
        the echo)."""
        if line is not None:
            os.write(self.fd, (line + "\r").encode())
        deadline = time.time() + timeout
        while True:
            m = re.search(rb"\n> ", self.out)
            if m:
                text = self.out[: m.end()].decode(errors="replace").replace("\r", "")
                self.out = self.out[m.end():]
                return text.split("\n", 1)[1] if line and text.startswith(line) else text
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no prompt after %r: %r" % (line, self.out))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise EOFError("REPL closed: %r" % self.out)
                self.out += chunk


def aligned(text):
    """True when a table's header and rule line start their columns at the same positions."""
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if re.match(r"^-+  -", l) and i > 0:
            starts = [m.start() for m in re.finditer(r"-+", l)]
            return all(p == 0 or lines[i - 1][p - 1] == " " for p in starts)
    return False


def main():
    r = Repl(tempfile.mkdtemp())
    r.ask(None)  # the banner
    out = r.ask("ix.help()")
    check("help lists the helpers", all("ix.%s" % n in out for n in
          ("use", "contexts", "models", "choose", "report", "measure", "open", "help")), repr(out))
    check("help is a table", aligned(out), repr(out))

    out = r.ask("ix.use{seed = 4}")
    check("use prints the connection", "backend sim, model sim-large" in out, repr(out))
    out = r.ask("ix.use{modle = 1}")
    check("unknown option named", "ix.use: unknown option 'modle'" in out, repr(out))
    r.ask("ix.use{seed = 4}")

    out = r.ask("ix.contexts(3)")
    check("contexts table", aligned(out) and re.search(r"\n\s*3  \S", out) is not None, repr(out))

    out = r.ask("ix.choose(2)")
    check("choose shows options and the choice", aligned(out) and re.search(r"choice: [AB]", out) is not None,
          repr(out))

    out = r.ask("ix.report(2)")
    check("report beside target", aligned(out) and "reported  target" in out, repr(out))

    out = r.ask("ix.measure(2, 120)")
    check("measure with intervals", aligned(out) and "95% lo" in out and "valid choices of 120" in out, repr(out))

    # Ctrl-D at an empty prompt ends the REPL. A ^D typed while the terminal is being switched
    # between cooked and raw mode (after a command's output, before the next prompt) can be
    # discarded by the tty, so it is typed again every 2 s until the REPL exits.
    os.write(r.fd, b"\x04")
    deadline, status, again = time.time() + 20, None, time.time() + 2
    while time.time() < deadline:
        if time.time() > again:
            # Ctrl-U first: a ^D typed ahead may have been taken as a character of the line
            os.write(r.fd, b"\x15\x04")
            again = time.time() + 2
        pid, st = os.waitpid(r.pid, os.WNOHANG)
        if pid:
            status = st
            break
        if select.select([r.fd], [], [], 0.1)[0]:
            try:
                r.out += os.read(r.fd, 65536)
            except OSError:
                pass
    if status is None:
        os.kill(r.pid, signal.SIGKILL)
        os.waitpid(r.pid, 0)
    check("Ctrl-D exits 0", status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          "status %r, output %r" % (status, r.out))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    signal.alarm(150)
    sys.exit(main())
