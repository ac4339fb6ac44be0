"""Runs a command on a pseudo-terminal and answers its prompts, as a person at a terminal would.

usage: pty_run.py PROMPT ANSWER [PROMPT ANSWER ...] -- COMMAND [ARG ...]

Each ANSWER is typed only after PROMPT has appeared. An ANSWER of the form `run:CMD;;TEXT` first runs
the shell command CMD (another program changing a file while the prompt waits), then types TEXT.
A PROMPT starting with "!" asks for hidden input:
its answer is typed only once the program has turned echo off, as a person would see the cursor
stop echoing; typing ahead of that would be echoed by any terminal program.
Prints everything the terminal showed; exits with the command's exit code.
"""
import os
import pty
import select
import sys
import termios
import time

split = sys.argv.index("--")
pairs = sys.argv[1:split]
command = sys.argv[split + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

seen = b""
deadline = time.time() + 30


def read_some():
    global seen
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False
        if not chunk:
            return False
        seen += chunk
    return True


def echo_on():
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


for prompt, answer in zip(pairs[0::2], pairs[1::2]):
    hidden = prompt.startswith("!")
    prompt = prompt.lstrip("!")
    while prompt.encode() not in seen:
        if time.time() > deadline or not read_some():
            sys.stdout.buffer.write(seen)
            sys.exit(f"pty_run: never saw prompt {prompt!r}")
    while hidden and echo_on():
        if time.time() > deadline:
            sys.exit(f"pty_run: echo never went off after {prompt!r}")
        time.sleep(0.01)
    if answer.startswith("run:"):
        command_text, answer = answer[len("run:"):].split(";;", 1)
        if os.system(command_text) != 0:
            sys.exit(f"pty_run: {command_text!r} failed")
    os.write(fd, answer.encode() + b"\r")

while time.time() < deadline and read_some():
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status))
