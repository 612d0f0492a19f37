"""End-to-end check of the `ix` REPL helpers: drives `introspect` through a pseudo-terminal on
the simulated subject and checks that ix.help(), ix.use, ix.contexts, ix.choose, ix.report and
ix.measure print aligned tables at the prompt, and that a bad option is reported by name."""
import os
import re
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from pty_repl import Checks, Repl  # noqa: E402

checks = Checks()
check = checks.check


def aligned(text):
    """True when a table's header and rule line start their columns at the same positions."""
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if re.match(r"^-+  -", l) and i > 0:
            starts = [m.start() for m in re.finditer(r"-+", l)]
            return all(p == 0 or lines[i - 1][p - 1] == " " for p in starts)
    return False


def main():
    r = Repl(tempfile.mkdtemp(), INTROSPECT_HISTORY="")
    r.ask(None)  # the banner
    out = r.ask("ix.help()")
    check("help lists the helpers", all("ix.%s" % n in out for n in
          ("use", "contexts", "models", "choose", "report", "measure", "open", "help")), repr(out))
    check("help is a table", aligned(out), repr(out))

    out = r.ask("ix.use{seed = 4}")
    check("use prints the connection", "backend sim, model sim-large" in out, repr(out))
    out = r.ask("ix.use{modle = 1}")
    check("unknown option named", "ix.use: unknown option 'modle'" in out, repr(out))
    check("usage error without a traceback", "traceback" not in out, repr(out))
    r.ask("ix.use{seed = 4}")

    out = r.ask("ix.contexts(3)")
    check("contexts table", aligned(out) and re.search(r"\n\s*3  \S", out) is not None, repr(out))

    out = r.ask("ix.choose(2)")
    check("choose shows options and the choice", aligned(out) and re.search(r"choice: [AB]", out) is not None,
          repr(out))

    out = r.ask("ix.report(2)")
    check("base model's report: no target column", aligned(out) and "reported  sim actual" in out
          and "target" not in out, repr(out))

    out = r.ask("ix.measure(2, 120)")
    check("measure with intervals", aligned(out) and "95% lo" in out and "valid choices of 120" in out, repr(out))

    status = r.quit()
    check("Ctrl-D exits 0", status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          "status %r, output %r" % (status, r.out))
    return checks.finish()


if __name__ == "__main__":
    signal.alarm(150)
    sys.exit(main())
