"""Runs a command under a pseudo-terminal and answers one prompt, for the spawned-binary tests.
(Not named pty.py: that would shadow the standard module when run as a script.)

usage: pty_session.py [--expect TEXT] [--answer TEXT] [--timeout SECONDS] -- COMMAND [ARGS...]

Stdin, stdout and stderr of COMMAND are the terminal. When the output contains TEXT, ANSWER is
typed (escapes such as \\r are decoded). Everything the terminal showed is printed on stdout, and
the exit status is COMMAND's (128+N when a signal N ended it). A run that outlives the timeout is
killed and exits 124; a prompt that never appears exits 125.
"""

import argparse
import os
import pty
import select
import signal
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect")
    parser.add_argument("--answer", default="")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    answer = args.answer.encode().decode("unicode_escape").encode()

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)

    deadline = time.monotonic() + args.timeout
    transcript = b""
    answered = args.expect is None
    if answered and answer:
        os.write(fd, answer)
    timed_out = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([fd], [], [], min(left, 0.5))
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        transcript += chunk
        if not answered and args.expect.encode() in transcript:
            answered = True
            os.write(fd, answer)

    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    sys.stdout.write(transcript.decode("utf-8", "replace"))
    sys.stdout.flush()
    if timed_out:
        sys.stderr.write(f"pty_session.py: timed out after {args.timeout}s\n")
        return 125 if not answered else 124
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
