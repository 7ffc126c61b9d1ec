#!/usr/bin/python3
"""Runs a command on a new pseudo-terminal, as a person at a terminal would:
waits for a prompt, types one line, and reads until the command ends.

    pty_session.py [--timeout S] [--prompt REGEX] [--send LINE]
                   [--at-prompt SRC DST] -- COMMAND [ARG...]

The whole transcript goes to stdout (carriage returns and escape sequences
removed); the exit
status is the command's own (128+N when a signal N killed it), 124 when the
prompt or the end did not come within --timeout (the command is then
killed). --at-prompt copies the file SRC to DST the moment the prompt shows,
so the caller can tell what had happened before it (missing SRC: empty DST).
"""
import argparse
import os
import pty
import re
import select
import signal
import sys
import time


def screen(data):
    """The text without carriage returns and terminal escape sequences (busybox
    sh asks for the cursor position, ESC [ 6 n, right after its prompt)."""
    return re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", data.replace(b"\r", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--prompt", default=r"[#$] $")
    ap.add_argument("--send")
    ap.add_argument("--at-prompt", nargs=2, metavar=("SRC", "DST"))
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no command")

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)

    deadline = time.monotonic() + a.timeout
    transcript = b""
    prompt = re.compile(a.prompt.encode())
    prompted = a.send is None
    ended = False
    while not ended:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed, the command ended
            chunk = b""
        if not chunk:
            ended = True
            break
        transcript += chunk
        # The prompt is the last thing on the screen: wait until it is.
        if not prompted and prompt.search(screen(transcript)):
            prompted = True
            if a.at_prompt:
                src, dst = a.at_prompt
                try:
                    with open(src, "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    data = b""
                with open(dst, "wb") as f:
                    f.write(data)
            os.write(fd, a.send.encode() + b"\r")

    sys.stdout.write(screen(transcript).decode("utf-8", "replace"))
    sys.stdout.flush()
    if not ended:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print(f"\npty_session: {'no prompt' if not prompted else 'no end'} within {a.timeout:g}s",
              file=sys.stderr)
        return 124
    # Bounded: the pty closed, so the command is ending.
    end_by = time.monotonic() + 10
    while True:
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            break
        if time.monotonic() > end_by:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print("\npty_session: the command closed its terminal but did not exit", file=sys.stderr)
            return 124
        time.sleep(0.05)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
