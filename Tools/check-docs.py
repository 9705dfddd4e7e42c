#!/usr/bin/env python3
"""Runs every command and SQL query the docs show, so the docs cannot rot.

Usage: python3 Tools/check-docs.py [--bin-dir DIR] [--demo-dir DIR] [--keep] [--verbose] [--list] [FILE ...]

What it reads: every ```sh and ```sql fenced block of README.md and docs/*.md (or of the FILEs
given). Blocks of any other language (```text, ```yaml, ```swift, none) are shown, never run.

How it runs them:
1. `quantfleet demo` runs once in a scratch copy of the repository, into its default folder
   `quantfleet-demo/` there, to make a ledger and a PKI (about a minute). `--demo-dir DIR` reuses a
   demo folder made before instead.
2. Each file's ```sh blocks run in order in one bash session (shell variables, `cd` and `export`
   carry from one block to the next within a file; every file starts afresh) with the scratch copy
   of the repository as the working directory. The scratch copy links to the repository's files
   and has its own copy of Config/, so what the commands write (pki/, var/, logs, pages) stays
   out of the repository. --bin-dir comes first on PATH, so `quantfleet`, `quantfleet-coordinator`
   and `quantfleet-agent` are the binaries under test. Every command must exit with status 0.
   Processes a file's commands leave running (daemons started with `&`) are stopped when the
   file is done.
3. Each statement of a ```sql block runs through `quantfleet ledger query --db LEDGER`.

A command is one line; a line ending in `\\` or inside an open quote goes on to the next.
A line that is only a comment is skipped.

Placeholders, replaced before a command or query runs (upper case, whole words):
    LEDGER    the demo's ledger (quantfleet-demo/coordinator/ledger.sqlite)
    DEMO      the demo's folder
    PKI       the demo's PKI folder (DEMO/pki)
    ROLLOUT   the id of the demo's rollout
A shell variable such as $LEDGER or ${ROLLOUT} is left alone.

Excusing a command that cannot run here: end it with the comment
    # not run by check-docs: REASON
or make that comment the first line of a block to excuse every command of the block. In a ```sql
block the marker is `-- not run by check-docs: REASON`. Excused commands are counted by reason.

Relative links ([text](file.md#heading)) must name a file that exists and, in a Markdown file, a
heading it has.

The summary line: N commands run, M passed, K excused, then the excuses by reason. Exits 1 when a
command fails, a link is broken, or no command was found; 0 otherwise. Python 3 standard library
only.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"(?:#|--)\s*not run by check-docs:\s*(.+?)\s*$")
FENCE = re.compile(r"^(\s*)```\s*([A-Za-z0-9_+-]*)\s*$")
PLACEHOLDERS = ("LEDGER", "DEMO", "PKI", "ROLLOUT")
COMMAND_TIMEOUT = 600  # seconds for one command
DEMO_TIMEOUT = 900


@dataclass
class Command:
    file: str
    line: int
    text: str
    language: str  # "sh" or "sql"
    excuse: str | None = None


@dataclass
class Result:
    command: Command
    status: int | None  # None: not run (excused)
    output: str = ""
    seconds: float = 0.0


@dataclass
class Block:
    file: str
    line: int  # line of the opening fence, 1-based
    language: str
    lines: list[str] = field(default_factory=list)


def fenced_blocks(path: Path, shown_name: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block | None = None
    fence_indent = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line)
        if current is None:
            if match:
                fence_indent = match.group(1)
                current = Block(shown_name, number, match.group(2).lower())
            continue
        if match and not match.group(2) and line.strip() == "```":
            blocks.append(current)
            current = None
            continue
        current.lines.append(line[len(fence_indent):] if line.startswith(fence_indent) else line)
    if current is not None:
        raise SystemExit(f"{shown_name}:{current.line}: fenced block never closed")
    return [block for block in blocks if block.language in ("sh", "sql")]


def shell_complete(text: str) -> bool:
    """True when `text` is a whole command: no open quote, no trailing backslash."""
    if text.rstrip("\n").endswith("\\"):
        return False
    lexer = shlex.shlex(text, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        list(lexer)
    except ValueError:
        return False
    return True


def commands_of(block: Block) -> list[Command]:
    block_excuse = None
    body = list(enumerate(block.lines, start=block.line + 1))
    for _, line in body:
        if line.strip():
            stripped = line.strip()
            if stripped.startswith(("#", "--")) and MARKER.search(stripped):
                block_excuse = MARKER.search(stripped).group(1)
            break
    commands: list[Command] = []
    pending: list[str] = []
    start = 0
    for number, line in body:
        if not pending:
            stripped = line.strip()
            if not stripped:
                continue
            if block.language == "sh" and stripped.startswith("#"):
                continue
            if block.language == "sql" and stripped.startswith("--"):
                continue
            start = number
        pending.append(line)
        text = "\n".join(pending)
        done = shell_complete(text) if block.language == "sh" else sqlite3.complete_statement(text)
        if done:
            excuse = block_excuse
            found = MARKER.search(pending[-1])
            if found:
                excuse = found.group(1)
            commands.append(Command(block.file, start, text, block.language, excuse))
            pending = []
    if pending:
        text = "\n".join(pending)
        found = MARKER.search(pending[-1])
        # A SQL statement may leave out its final semicolon.
        if block.language == "sql":
            commands.append(Command(block.file, start, text, "sql", found.group(1) if found else block_excuse))
        else:
            raise SystemExit(f"{block.file}:{start}: unfinished command (open quote or trailing backslash)")
    return commands


def substitute(text: str, values: dict[str, str]) -> str:
    for name in PLACEHOLDERS:
        text = re.sub(r"(?<![\w${/])" + name + r"(?![\w}])", lambda _: values[name], text)
    return text


def display_name(path: Path) -> str:
    """A doc's path as messages show it: relative to the repository when it is inside it."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def scratch_copy(root: Path, into: Path) -> Path:
    """A working directory that looks like the repository: links to its files, its own Config/."""
    work = into / "repo"
    work.mkdir()
    skip = {".git", "Config", "pki", "var", "quantfleet-demo", "quantfleet-chaos", "rollout.html"}
    for entry in root.iterdir():
        if entry.name in skip:
            continue
        (work / entry.name).symlink_to(entry)
    shutil.copytree(root / "Config", work / "Config")
    return work


def run_demo(binaries: Path, work: Path, demo: Path, verbose: bool) -> None:
    print(f"check-docs: running the demo into {demo} (about a minute)", flush=True)
    started = time.monotonic()
    process = subprocess.run(
        [str(binaries / "quantfleet"), "demo", "--dir", str(demo), "--root", str(work)],
        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=DEMO_TIMEOUT)
    if verbose or process.returncode != 0:
        print(process.stdout)
    if process.returncode != 0:
        raise SystemExit(f"check-docs: the demo failed (exit {process.returncode}); nothing else was run")
    print(f"check-docs: demo done in {time.monotonic() - started:.0f} s", flush=True)


def demo_values(demo: Path) -> dict[str, str]:
    ledger = demo / "coordinator" / "ledger.sqlite"
    if not ledger.exists():
        raise SystemExit(f"check-docs: no ledger at {ledger}")
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as connection:
        row = connection.execute("SELECT id FROM rollouts ORDER BY created_at DESC LIMIT 1").fetchone()
    if row is None:
        raise SystemExit(f"check-docs: the demo's ledger {ledger} holds no rollout")
    return {"LEDGER": str(ledger), "DEMO": str(demo), "PKI": str(demo / "pki"), "ROLLOUT": row[0]}


class ShellSession:
    """One bash process for one file's commands, read from a pipe one command at a time."""

    def __init__(self, work: Path, environment: dict[str, str]):
        read_end, self.script = os.pipe()
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc", f"/dev/fd/{read_end}"], cwd=work, env=environment,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(read_end,), start_new_session=True)
        os.close(read_end)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.sentinel = f"@@check-docs-{os.getpid()}-{time.time_ns()}@@"
        self._send("exec 2>&1\nset -o pipefail\n")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.put(raw.decode("utf-8", errors="replace"))
        self.lines.put(None)

    def _send(self, text: str) -> None:
        os.write(self.script, text.encode())

    def run(self, text: str, timeout: float) -> tuple[int | None, str]:
        """The command's exit status (None on a timeout or a dead shell) and its output."""
        try:
            self._send(f"{text}\nprintf '\\n{self.sentinel} %d\\n' \"$?\"\n")
        except BrokenPipeError:
            return None, "(the shell had exited)"
        output: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    return None, "".join(output) + f"\n(timed out after {timeout:.0f} s)"
                continue
            if line is None:
                return None, "".join(output) + "\n(the shell exited)"
            if line.startswith(self.sentinel):
                status = int(line.split()[-1])
                return status, "".join(output).rstrip("\n")
            output.append(line)

    def close(self) -> None:
        try:
            os.close(self.script)
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        # Whatever the file's commands left running (daemons started with &) is in this session's
        # process group: stop it, politely first.
        for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            end = time.monotonic() + grace
            while time.monotonic() < end:
                try:
                    os.killpg(self.process.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.2)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_sql(binaries: Path, ledger: str, sql: str, work: Path) -> tuple[int, str]:
    process = subprocess.run(
        [str(binaries / "quantfleet"), "ledger", "query", "--db", ledger, sql], cwd=work,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=COMMAND_TIMEOUT)
    return process.returncode, process.stdout


def shown(command: Command) -> str:
    first = command.text.splitlines()[0]
    return first if len(first) <= 110 else first[:107] + "..."


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors_of(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings (lower case, punctuation dropped, spaces to -)."""
    found: set[str] = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence or not line.startswith("#"):
            continue
        title = line.lstrip("#").strip().lower()
        title = re.sub(r"[^\w\- ]", "", title.replace("`", ""))
        found.add(title.replace(" ", "-"))
    return found


def broken_links(path: Path, shown_name: str) -> list[str]:
    """Relative links of a Markdown file whose file, or whose #anchor, does not exist."""
    broken = []
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{shown_name}: {target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
            broken.append(f"{shown_name}: {target} (no such heading)")
    return broken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin-dir", default=".build/debug",
                        help="folder of quantfleet, quantfleet-coordinator, quantfleet-agent (default .build/debug)")
    parser.add_argument("--demo-dir", help="reuse this demo folder instead of running the demo")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and print where it is")
    parser.add_argument("--verbose", action="store_true", help="print every command's output")
    parser.add_argument("--list", action="store_true", help="list the commands found and run nothing")
    parser.add_argument("files", nargs="*", help="Markdown files to check (default: README.md and docs/*.md)")
    arguments = parser.parse_args()

    binaries = Path(arguments.bin_dir)
    if not binaries.is_absolute():
        binaries = (Path.cwd() / binaries).resolve()
    for name in ("quantfleet", "quantfleet-coordinator", "quantfleet-agent"):
        if not (binaries / name).is_file():
            raise SystemExit(f"check-docs: {binaries / name} not found (build first, or pass --bin-dir)")

    files = [Path(f).resolve() for f in arguments.files] or [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    commands: list[Command] = []
    for path in files:
        for block in fenced_blocks(path, display_name(path)):
            commands.extend(commands_of(block))
    if not commands:
        print("check-docs: no ```sh or ```sql commands found")
        return 1
    links: list[str] = []
    for path in files:
        links.extend(broken_links(path, display_name(path)))
    if arguments.list:
        for command in commands:
            mark = f"excused ({command.excuse})" if command.excuse else "run"
            print(f"{command.file}:{command.line} [{command.language}, {mark}] {shown(command)}")
        return 0

    scratch = Path(tempfile.mkdtemp(prefix="check-docs-"))
    results: list[Result] = []
    try:
        work = scratch_copy(ROOT, scratch)
        to_run = [c for c in commands if c.excuse is None]
        if to_run:
            # The demo's default folder, so that commands written for a reader who ran the demo
            # (quantfleet-demo/coordinator/ledger.sqlite) work as they are.
            demo = work / "quantfleet-demo"
            if arguments.demo_dir:
                demo.symlink_to(Path(arguments.demo_dir).resolve())
            else:
                run_demo(binaries, work, demo, arguments.verbose)
            values = demo_values(demo)
        else:
            values = {name: name for name in PLACEHOLDERS}
        environment = dict(os.environ)
        environment["PATH"] = f"{binaries}{os.pathsep}{environment.get('PATH', '')}"
        environment["CHECK_DOCS"] = "1"
        for name in ("QUANTFLEET_COORDINATOR", "QUANTFLEET_CERT", "QUANTFLEET_KEY", "QUANTFLEET_CA", "QUANTFLEET_KERNELS"):
            environment.pop(name, None)

        by_file: dict[str, list[Command]] = {}
        for command in commands:
            by_file.setdefault(command.file, []).append(command)
        for file, file_commands in by_file.items():
            session: ShellSession | None = None
            try:
                for command in file_commands:
                    if command.excuse is not None:
                        results.append(Result(command, None))
                        continue
                    text = substitute(command.text, values)
                    started = time.monotonic()
                    if command.language == "sql":
                        status, output = run_sql(binaries, values["LEDGER"], text, work)
                    else:
                        if session is None:
                            session = ShellSession(work, environment)
                        status, output = session.run(text, COMMAND_TIMEOUT)
                    result = Result(command, status, output, time.monotonic() - started)
                    results.append(result)
                    verdict = "ok  " if status == 0 else "FAIL"
                    print(f"{verdict} {file}:{command.line} ({result.seconds:.1f} s) {shown(command)}", flush=True)
                    if status != 0 or arguments.verbose:
                        detail = output if len(output) < 6000 else output[:3000] + "\n...\n" + output[-3000:]
                        print("     " + detail.replace("\n", "\n     ") + (f"\n     exit status {status}" if status else ""))
            finally:
                if session is not None:
                    session.close()
    finally:
        if arguments.keep:
            print(f"check-docs: scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    ran = [r for r in results if r.command.excuse is None]
    passed = [r for r in ran if r.status == 0]
    excused = Counter(r.command.excuse for r in results if r.command.excuse is not None)
    failed = [r for r in ran if r.status != 0]
    print()
    for result in failed:
        print(f"failed: {result.command.file}:{result.command.line}: {shown(result.command)}")
    for link in links:
        print(f"broken link: {link}")
    print(f"check-docs: {len(ran)} commands run, {len(passed)} passed, {sum(excused.values())} excused"
          + (f"; {len(links)} broken links" if links else ""))
    for reason, count in sorted(excused.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:4d} excused: {reason}")
    return 0 if not failed and not links else 1


if __name__ == "__main__":
    sys.exit(main())
