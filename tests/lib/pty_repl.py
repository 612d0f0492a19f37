"""Driving the introspect REPL through a pseudo-terminal, for tests/cli/repl_*.py (not a test
itself): a Repl to type into and read from, and pass/fail counting."""
import os
import pty
import re
import select
import signal
import time

BIN = os.environ.get("INTROSPECT_BIN", "build/introspect")


class Checks:
    """Counts checks; finish() prints the "N passed, N failed" line and returns the exit code."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: %s %s" % (name, detail))

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


class Repl:
    """`introspect` with no arguments on a pty, HOME set to `home`, LUA_INIT removed (but for
    make coverage's line counter, tests/coverage/hook.lua, which prints nothing)."""

    def __init__(self, home, **env_extra):
        env = dict(os.environ, HOME=home, TERM="dumb", **env_extra)
        if "INTROSPECT_COVERAGE_DIR" not in env:
            env.pop("LUA_INIT", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(BIN, [BIN], env)
        self.out = b""

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            raise EOFError("REPL closed; output: %r" % self.out)
        self.out += chunk

    def read_until(self, pattern, timeout=20.0):
        """Reads until the regex matches the output since the last call; returns that text."""
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
            self._read(left)

    def send(self, text):
        os.write(self.fd, text.encode())

    def line(self, text):
        self.send(text + "\r")

    def ask(self, line, timeout=20.0):
        """Types a line (None: nothing) and returns the output up to the next prompt, without
        the echoed line and carriage returns."""
        if line is not None:
            self.line(line)
        text = self.read_until(r"\n> ", timeout).replace("\r", "")
        return text.split("\n", 1)[1] if line and text.startswith(line) else text

    def quit(self, timeout=20.0):
        """Types Ctrl-D and returns the exit status (None if it did not exit). A ^D typed while
        the tty switches between cooked and raw mode (a loaded machine) can be dropped or taken
        as a character of the line, so Ctrl-U and ^D are typed again every 2 s."""
        self.send("\x04")
        deadline, again = time.time() + timeout, time.time() + 2
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return status
            if time.time() > again:
                self.send("\x15\x04")
                again = time.time() + 2
            try:
                self._read(0.1)
            except EOFError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None
