"""End-to-end REPL test: drives `introspect` through a pseudo-terminal and checks value
printing (nested tables, cycles), continuation lines, Ctrl-C interrupting a running chunk and at
the prompt, errors, the `ix` global, history, and Ctrl-D leaving with exit 0."""
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


class Repl:
    def __init__(self, home):
        env = dict(os.environ, HOME=home, TERM="dumb")
        env.pop("LUA_INIT", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(BIN, [BIN], env)
        self.out = b""

    def read_until(self, pattern, timeout=10.0):
        """Reads until the regex matches the output since the last call; returns the text."""
        deadline = time.time() + timeout
        rx = re.compile(pattern.encode(), re.S)
        while True:
            m = rx.search(self.out)
            if m:
                text = self.out[: m.end()].decode(errors="replace")
                self.out = self.out[m.end():]
                return text
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no match for %r in %r" % (pattern, self.out.decode(errors="replace")))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise EOFError("REPL closed; output: %r" % self.out)
                self.out += chunk

    def send(self, text):
        os.write(self.fd, text.encode())

    def line(self, text):
        self.send(text + "\r")


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail))


def main():
    home = tempfile.mkdtemp()
    r = Repl(home)
    banner = r.read_until(r"\n> ")
    check("banner", "introspect 0." in banner and "Lua 5.4" in banner, banner)

    r.line("1 + 1")
    out = r.read_until(r"\n> ")
    check("expression value", re.search(r"\n2\r?\n", out) is not None, repr(out))

    r.line("t = {a = 1, b = {c = 'x', 10}}; t.me = t")
    r.read_until(r"\n> ")
    r.line("t")
    out = r.read_until(r"\n> ")
    check("nested table", "b = { 10, c = \"x\" }" in out, repr(out))
    check("cycle marked", "<cycle: table: 0x" in out, repr(out))

    r.line("for i = 1, 3 do")
    out = r.read_until(r">> ")
    check("continuation prompt", True)
    r.line("io.write(i * 10, ' ')")
    r.read_until(r">> ")
    r.line("end")
    out = r.read_until(r"30 > ")
    check("multi-line statement ran", "10 20 30" in out, repr(out))

    r.line("return 1, 'two', nil")
    out = r.read_until(r"\n> ")
    check("several values", re.search(r'1\t"two"\tnil', out) is not None, repr(out))

    r.line("error('oops')")
    out = r.read_until(r"\n> ")
    check("error shown", "stdin:1: oops" in out and "stack traceback" in out, repr(out))

    r.line("type(ix), type(ix.pretty)")
    out = r.read_until(r"\n> ")
    check("ix global", '"table"\t"table"' in out, repr(out))

    r.line("n = 0; while true do n = n + 1 end")
    time.sleep(0.5)
    r.send("\x03")
    out = r.read_until(r"\n> ")
    check("Ctrl-C interrupts a chunk", "interrupted!" in out, repr(out))
    r.line("n > 0")
    out = r.read_until(r"\n> ")
    check("state kept after interrupt", "true" in out, repr(out))

    r.send("half typed")
    time.sleep(0.2)
    r.send("\x03")
    time.sleep(0.2)
    out = r.read_until(r"\n> ")
    check("Ctrl-C at the prompt gives a fresh prompt", "error" not in out, repr(out))
    r.line("'after'")
    out = r.read_until(r"\n> ")
    check("Ctrl-C at the prompt drops the line", '"after"' in out and "syntax error" not in out, repr(out))

    # Ctrl-D at the prompt; typed again every 2 s in case the tty discarded it while switching
    # modes (a loaded machine), until the REPL exits.
    r.send("\x04")
    status, deadline, again = None, time.time() + 20, time.time() + 2
    while time.time() < deadline:
        pid, st = os.waitpid(r.pid, os.WNOHANG)
        if pid:
            status = st
            break
        if time.time() > again:
            r.send("\x15\x04")  # Ctrl-U first: a typed-ahead ^D may have become part of the line
            again = time.time() + 2
        time.sleep(0.05)
    if status is None:
        os.kill(r.pid, signal.SIGKILL)
        _, status = os.waitpid(r.pid, 0)
    check("Ctrl-D exits 0", os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, str(status))
    hist = os.path.join(home, ".introspect_history")
    saved = open(hist, errors="replace").read().replace("\\040", " ") if os.path.exists(hist) else ""
    check("history saved", "1 + 1" in saved, repr(saved))

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    signal.alarm(60)
    sys.exit(main())
