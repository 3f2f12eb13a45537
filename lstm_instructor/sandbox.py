"""The grader's sandbox: Debian's bubblewrap around one submission, with limits on everything it uses.

What the submission sees (:func:`bubblewrap_command`):

* read-only: the system (``/usr``, ``/etc``), the Python environment, a copy of the student's
  library ``lstm_course`` at ``/course/lstm_course`` (:func:`write_student_package`: never the
  instructor's package, and not the host's path), the grader's runner at ``/course/grader_runner``
  (:func:`write_runner_package`: a copy of two of the instructor's modules, nothing else), the course's
  ``results/`` and ``benchmarks/`` (the chapters read them) and the corpus cache;
* read-only: its task folder (its own notebook and its inputs, nothing else);
* writable: a private, size-limited ``/tmp`` and working folder ``/course/chapters``, both in memory
  and gone when it ends;
* not at all: the network, the instructor's notebooks and package, other submissions, the grades
  file, the grader's processes (a PID namespace of its own: when the sandbox ends, every process it
  started dies), new user namespaces (bubblewrap's ``--disable-userns``: as root, a second
  bubblewrap run as nobody inside the first), and the site-packages the environment does not use
  (the base interpreter's, the system's: :func:`unused_site_folders`), shown empty.

SymPy and the other libraries that differentiate (:data:`DIFFERENTIATORS`) are hidden (empty folders),
and PyTorch too from submissions whose exercises do not need it, so that autograd or symbolic
differentiation cannot answer a backward-pass exercise.

Limits (:class:`Limits`): memory, CPU time, processes, open files, disk, and bytes of output, both
printed output and the result it sends back; run as root, the sandbox gives up root for ``nobody``
before the submission starts (:data:`BECOME_NOBODY`). Memory and processes are capped per process
(``RLIMIT_AS``, ``RLIMIT_NPROC``) and, where the grader may create a control group
(:class:`ControlGroup`, cgroup v1 or v2), for the whole sandbox together, shared memory included;
the grader refuses to grade for marks without one. :func:`run` enforces the wall-clock timeout and
the output limits from outside, and holds the clock of the grader's timed phase (a conversation over
a second pipe, grader to runner).
"""

from __future__ import annotations

import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20
NOBODY = 65534
"""The user (and group) a root grader's submissions run as (:mod:`lstm_instructor.submission_runner`)."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
SANDBOX_COURSE = Path("/course")
SANDBOX_HOME = SANDBOX_COURSE / "chapters"


class SandboxError(RuntimeError):
    """The sandbox itself could not start: the grader's machine, not the submission, is at fault."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    timeout_s: float = 1800.0
    memory_bytes: int = 6 * 1024 * MIB
    processes: int = 64
    disk_bytes: int = 256 * MIB  # each of /tmp and the working folder
    log_bytes: int = 16 * MIB  # printed output; past it the submission is stopped
    result_bytes: int = 64 * MIB  # the outputs sent back


@dataclass
class Run:
    """How a sandboxed run ended."""

    returncode: int | None = None
    stopped: str | None = None  # why the grader stopped it: "timeout after 30 s", "printed more than ..."
    log_tail: bytes = b""
    result: bytes = b""
    seconds: float = 0.0
    overran: bool = False  # stopped at the conversation's deadline: the result so far is kept


def bubblewrap() -> str | None:
    """The ``bwrap`` executable, or ``None`` where bubblewrap is not installed."""
    return shutil.which("bwrap")


def _system_binds() -> list[str]:
    arguments = []
    for name in ("bin", "lib", "lib32", "lib64", "libx32", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            arguments += ["--ro-bind", str(path), str(path)]
    return arguments + ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]


def read_only_paths(course_root: Path, corpus_cache: Path | None, package: Path,
                    runner: Path) -> list[tuple[Path, Path]]:
    """``(host path, sandbox path)`` pairs bound read-only, besides the system.

    ``package``: a copy of the student's library ``lstm_course`` (:func:`write_student_package`), seen at
    ``/course/lstm_course``, never the instructor's; ``runner``: the grader's runner
    (:func:`write_runner_package`), seen at ``/course/grader_runner``.
    """
    environment = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.exec_prefix).resolve()}
    pairs = [(path, path) for path in sorted(environment)]
    pairs += [(package, SANDBOX_COURSE / "lstm_course"), (runner, SANDBOX_COURSE / RUNNER_PACKAGE)]
    for folder in ("results", "benchmarks"):
        if (course_root / folder).is_dir():
            pairs.append(((course_root / folder).resolve(), SANDBOX_COURSE / folder))
    if corpus_cache is not None and corpus_cache.is_dir():
        pairs.append((corpus_cache.resolve(), corpus_cache.resolve()))
    return pairs


def write_student_package(folder: Path, withheld: dict[str, tuple[str, ...]] | None = None) -> Path:
    """A copy of the student's library ``lstm_course`` under ``folder``; its path.

    Its ``exercises.checks`` is :data:`CHECKS_WHILE_GRADING`: no public check, so no reference, runs in the sandbox.
    ``withheld``: module -> names of public functions that would answer an exercise being graded
    (``numpy_rnn.rnn_backward``, one call per unit, is chapter 1's Jacobian); each raises there.

    Public, so readable by all (the submission runs as nobody); imported in the sandbox through
    ``PYTHONPATH=/course``.
    """
    import lstm_course

    source = Path(lstm_course.__file__).resolve().parent
    target = Path(folder) / "lstm_course"
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts) or not path.is_file():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    (target / "exercises" / "checks.py").write_text(CHECKS_WHILE_GRADING, encoding="utf-8")
    for module, names in (withheld or {}).items():
        path = target.joinpath(*module.split(".")).with_suffix(".py")
        path.write_text(without_functions(path.read_text(encoding="utf-8"), names), encoding="utf-8")
    make_public(Path(folder))
    return target


def make_public(folder: Path) -> None:
    """``folder`` and everything in it readable by all (the submission runs as nobody), writable by none else."""
    for path in (folder, *folder.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)


RUNNER_MODULES = ("submission_runner", "exchange")
"""What of the instructor's package runs inside the sandbox: the runner and the format of what crosses the wall."""


RUNNER_PACKAGE = "grader_runner"
"""The in-sandbox package of :data:`RUNNER_MODULES`: the instructor's package itself is never in the sandbox."""

RUNNER_PACKAGE_DOCSTRING = '"""The grader\'s runner, in the sandbox: two modules of the instructor\'s package."""\n'


def write_runner_package(folder: Path) -> Path:
    """A package :data:`RUNNER_PACKAGE` under ``folder`` holding only :data:`RUNNER_MODULES`; its path.

    The runner must run inside the sandbox; the instructor's package (the grader, the reference answers,
    the hand-written backward) is never there, not even under its own name. Public, like the student package.
    """
    import lstm_instructor

    source = Path(lstm_instructor.__file__).resolve().parent
    target = Path(folder) / RUNNER_PACKAGE
    target.mkdir(parents=True, exist_ok=True)
    (target / "__init__.py").write_text(RUNNER_PACKAGE_DOCSTRING, encoding="utf-8")
    for module in RUNNER_MODULES:
        shutil.copyfile(source / f"{module}.py", target / f"{module}.py")
    make_public(target)
    return target


WITHHELD_STUB = '''def {name}(*args, **kwargs):  # withheld by the grader's sandbox
    raise RuntimeError("withheld while grading: it would answer an exercise of this chapter")
'''


def without_functions(source: str, names) -> str:
    """``source`` with each module-level function in ``names`` replaced by a stub that raises.

    The function's code is gone from the file, decorators included, not only shadowed: a submission
    that read the file and ran the original would otherwise have it back.
    """
    import ast

    definitions = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    missing = sorted(set(names) - set(definitions))
    if missing:
        raise ValueError(f"withheld functions not defined at the module's top level: {missing}")
    lines = source.splitlines(keepends=True)
    for name in sorted(names, key=lambda name: definitions[name].lineno, reverse=True):
        node = definitions[name]
        first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        lines[first - 1:node.end_lineno] = [WITHHELD_STUB.format(name=name)]
    return "".join(lines)


CHECKS_WHILE_GRADING = '''"""The public checks, as a graded submission sees them: not there.

Each check computes its own reference (central differences, a definition), which a submission could
capture and return as its answer. The grader needs none of them: it draws its own inputs and scores
the outputs outside the sandbox. A notebook's check cells fail here, and that costs nothing.
"""


def __getattr__(name):
    raise AttributeError(f"lstm_course.exercises.checks.{name}: the public checks do not run while grading")
'''
"""The ``lstm_course/exercises/checks.py`` of the sandbox's package (:func:`write_student_package`)."""


def unused_site_folders() -> list[Path]:
    """Site-packages and dist-packages folders that the grader's interpreter does not use.

    The base interpreter's (under a virtual environment), the system's (``/usr``, ``/usr/local``): a
    submission could append them to ``sys.path`` and find SymPy there; the sandbox shows them empty.
    """
    import site

    used = {Path(path).resolve() for path in [*site.getsitepackages(), site.getusersitepackages()]
            if Path(path).is_dir()}
    candidates = set()
    for prefix in {Path(sys.base_prefix), Path(sys.prefix), Path("/usr"), Path("/usr/local")}:
        for pattern in ("lib/python3*/site-packages", "lib/python3*/dist-packages", "lib/python3/dist-packages",
                        "lib64/python3*/site-packages"):
            candidates.update(path.resolve() for path in prefix.glob(pattern) if path.is_dir())
    return sorted(candidates - used)


DIFFERENTIATORS = ("torch", "functorch", "torchgen", "sympy", "mpmath", "jax", "autograd")
"""Packages that differentiate for you (PyTorch's autograd, SymPy), hidden from exercises that do not need them."""


TORCH = ("torch", "functorch", "torchgen")


def differentiator_folders(keep_torch: bool = False) -> list[Path]:
    """Where the installed :data:`DIFFERENTIATORS` are (but PyTorch's, with ``keep_torch``: chapters on tensors)."""
    import importlib.util

    folders = []
    for name in DIFFERENTIATORS:
        if keep_torch and name in TORCH:
            continue
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            folders += [Path(location).resolve() for location in spec.submodule_search_locations]
    return folders


def bubblewrap_command(task_dir: Path, sandbox_task: Path, read_only: list[tuple[Path, Path]],
                       limits: Limits, command: list[str], hidden: list[Path] = ()) -> list[str]:
    """The ``bwrap`` command line that runs ``command`` in the sandbox described above.

    ``hidden``: folders inside the read-only ones that the submission sees empty (PyTorch and SymPy,
    for exercises that they could answer).
    """
    # As root, every namespace but the user one, so that the runner can become nobody; otherwise all of them.
    namespaces = (["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
                  if os.geteuid() == 0 else ["--unshare-all"])
    arguments = [bubblewrap() or "bwrap", *namespaces, "--die-with-parent", "--new-session",
                 "--proc", "/proc", "--dev", "/dev", *_system_binds()]
    mounts = [*read_only, (task_dir, sandbox_task)]
    # The private /tmp first: a course or environment that lives under /tmp is bound on top of it.
    arguments += ["--perms", "1777", "--size", str(limits.disk_bytes), "--tmpfs", "/tmp"]
    # Folders bubblewrap would create on the way to a mount point are root's alone (0700): open them.
    parents = sorted({parent for _, inside in mounts for parent in Path(inside).parents if parent != Path("/")}
                     | {SANDBOX_COURSE}, key=lambda path: len(path.parts))
    for parent in parents:
        arguments += ["--perms", "0755", "--dir", str(parent)]
    arguments += ["--perms", "1777", "--size", str(limits.disk_bytes), "--tmpfs", str(SANDBOX_HOME)]
    for host, inside in mounts:
        arguments += ["--ro-bind", str(host), str(inside)]
    for folder in hidden:
        arguments += ["--perms", "0555", "--tmpfs", str(folder)]
    arguments += ["--chdir", str(SANDBOX_HOME)]
    if os.geteuid() != 0:
        return [*arguments, *_no_user_namespaces(), "--", *command]
    # As root: bubblewrap drops every capability but these two, which the next step uses to become nobody
    # and which it then gives up; as nobody, a second bubblewrap takes the whole view as it is and only
    # forbids new user namespaces (which needs a user namespace of its own, so nobody's, not root's).
    arguments += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    inner = [bubblewrap() or "bwrap", "--dev-bind", "/", "/", "--die-with-parent", *_no_user_namespaces(),
             "--chdir", str(SANDBOX_HOME)] if user_namespaces_can_be_disabled() else []
    become_nobody = [sys.executable, "-I", "-S", "-c", BECOME_NOBODY]
    return [*arguments, "--", *become_nobody, *(inner + ["--"] if inner else []), *command]


BECOME_NOBODY = (f"import os, sys; os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY}); "
                 "os.execvp(sys.argv[1], sys.argv[1:])")
"""Run with ``python -I -S -c``, before the command as its arguments: give up root for nobody, then exec it."""


def user_namespaces_can_be_disabled() -> bool:
    """Whether this bubblewrap has ``--disable-userns`` (0.8 and later); asked once, and again if asking failed."""
    executable = bubblewrap() or "bwrap"
    if executable not in _DISABLES_USERNS:
        try:
            shown = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return False
        _DISABLES_USERNS[executable] = "--disable-userns" in shown.stdout + shown.stderr
    return _DISABLES_USERNS[executable]


_DISABLES_USERNS: dict[str, bool] = {}


def _no_user_namespaces() -> list[str]:
    """A user namespace of the sandbox's own in which no other can be created (unshare -U fails)."""
    return ["--unshare-user", "--disable-userns"] if user_namespaces_can_be_disabled() else []


def environment(corpus_cache: Path | None) -> dict[str, str]:
    """The whole environment a submission gets: nothing inherited from the grader."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(SANDBOX_HOME), "LANG": "C.UTF-8",
           "PYTHONPATH": str(SANDBOX_COURSE),
           "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
           "XDG_CACHE_HOME": "/tmp/cache", "TORCHINDUCTOR_CACHE_DIR": "/tmp/inductor",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if corpus_cache is not None:
        env["LSTM_COURSE_CACHE"] = str(corpus_cache.resolve())
    return env


def _processes_of(uid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


class ControlGroup:
    """Caps on the memory and the number of processes of a whole sandbox, all its processes together.

    :meth:`create` makes one (cgroup v2, or v1's ``memory`` and ``pids`` controllers) where the
    grader is allowed to, else returns ``None``: then only the per-process limits apply.
    """

    def __init__(self, folders: list[Path]):
        self.folders = folders

    @classmethod
    def create(cls, name: str, limits: Limits) -> ControlGroup | None:
        created = []
        try:
            if (CGROUP_ROOT / "cgroup.controllers").exists():  # cgroup v2
                enabled = (CGROUP_ROOT / "cgroup.subtree_control").read_text().split()
                if not {"memory", "pids"} <= set(enabled):
                    return None
                folder = CGROUP_ROOT / name
                folder.mkdir()
                created.append(folder)
                (folder / "memory.max").write_text(str(limits.memory_bytes))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(limits.processes))
            else:  # cgroup v1
                memory, pids = CGROUP_ROOT / "memory" / name, CGROUP_ROOT / "pids" / name
                for folder in (memory, pids):
                    folder.mkdir()
                    created.append(folder)
                (memory / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
                (pids / "pids.max").write_text(str(limits.processes))
        except OSError:
            cls(created).remove()
            return None
        return cls(created)

    def enter(self) -> None:
        """Move the calling process (and so everything it starts) into the group; in the child, before exec.

        Where the move is refused, the per-process limits still apply.
        """
        for folder in self.folders:
            try:
                (folder / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass

    def remove(self) -> None:
        for folder in self.folders:
            for _ in range(50):  # empty once the PID namespace's processes are reaped
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _set_limits(limits: Limits, group: ControlGroup | None = None):
    cpu = int(limits.timeout_s) + 5 if limits.timeout_s < 1e9 else resource.RLIM_INFINITY
    # Counted per user: as root the runner becomes nobody; otherwise the grader's own processes count too.
    processes = limits.processes + (0 if os.geteuid() == 0 else _processes_of(os.geteuid()))

    def apply():
        if group is not None:
            group.enter()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.disk_bytes, limits.disk_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run(command_for: Callable[[int, int], list[str]], limits: Limits, env: dict[str, str], cwd: Path | None = None,
        require_group: bool = False, conversation=None) -> Run:
    """Run ``command_for(result_fd, talk_fd)`` in a process group, within ``limits``.

    ``result_fd`` is the result pipe's write end; ``talk_fd`` the read end of a second pipe, from the
    grader to the run. ``conversation`` is what the grader says on it (``grading.TimedPhase``): after
    every chunk of the result, ``conversation.heard(result, now)`` returns the bytes to send, which
    are written without blocking, between reads; once ``conversation.finished`` and all is written the
    pipe is closed; past ``conversation.deadline`` (a ``time.monotonic()`` time, or ``None``) the run is
    stopped with ``overran`` set and its result kept. Without a conversation the pipe is closed at once.

    ``require_group``: raise :class:`SandboxError`, starting nothing, where no control group can be made.

    Printed output beyond ``limits.log_bytes`` or a result beyond ``limits.result_bytes`` stops it,
    as does the timeout; only the last 64 KiB of printed output are kept.
    """
    group = ControlGroup.create(f"lstm-course-grade-{os.getpid()}-{time.monotonic_ns()}", limits)
    if group is None and require_group:
        raise SandboxError("no control group could be created for it (memory and processes would be capped per "
                           "process only)")
    result_read, result_write = os.pipe()
    talk_read, talk_write = os.pipe()
    os.set_blocking(talk_write, False)
    started = time.monotonic()
    try:
        process = subprocess.Popen(command_for(result_write, talk_read), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   pass_fds=(result_write, talk_read), env=env, cwd=cwd, start_new_session=True,
                                   preexec_fn=_set_limits(limits, group))
    except BaseException as error:  # nothing started: give back the pipes and the control group, say why
        os.close(result_read)
        os.close(talk_write)
        if group is not None:
            group.remove()
        if isinstance(error, Exception):
            raise SandboxError(f"the sandbox could not start ({type(error).__name__}: {error})") from None
        raise
    finally:
        os.close(result_write)
        os.close(talk_read)
    outcome = Run()
    log, result, printed = bytearray(), bytearray(), 0
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ, "log")
    selector.register(result_read, selectors.EVENT_READ, "result")
    talk = _Talk(talk_write, selector, conversation)
    deadline = started + limits.timeout_s
    try:
        while talk.reading():
            now = time.monotonic()
            if deadline - now <= 0:
                outcome.stopped = f"timeout after {limits.timeout_s:g} s"
                break
            if talk.overran(now):
                outcome.overran = True
                break
            for key, _ in selector.select(timeout=min(deadline - now, talk.remaining(now), 1.0)):
                if key.data == "talk":
                    talk.write()
                    continue
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                if key.data == "log":
                    printed += len(chunk)
                    log += chunk
                    del log[: max(0, len(log) - (1 << 16))]
                    if printed > limits.log_bytes:
                        outcome.stopped = f"printed more than {limits.log_bytes // MIB} MiB"
                else:
                    result += chunk
                    if len(result) > limits.result_bytes:
                        outcome.stopped = f"sent back more than {limits.result_bytes // MIB} MiB"
                    else:
                        talk.heard(result, time.monotonic())
            if outcome.stopped:
                break
            if process.poll() is not None and not talk.reading():
                break
    finally:
        _kill_group(process)
        talk.close()
        selector.close()
        process.stdout.close()
        os.close(result_read)
        if group is not None:
            group.remove()
    outcome.returncode = process.returncode
    outcome.log_tail = bytes(log)
    outcome.result = bytes(result) if not outcome.stopped else b""
    outcome.seconds = time.monotonic() - started
    return outcome


class _Talk:
    """:func:`run`'s end of the pipe to the runner: what the conversation says, written without blocking."""

    def __init__(self, fd: int, selector, conversation):
        self.fd, self.selector, self.conversation, self.pending = fd, selector, conversation, bytearray()
        if conversation is None or conversation.finished:
            self.close()

    def reading(self) -> bool:
        """Whether the log or the result pipe is still open (the talk pipe alone does not keep the run going)."""
        return any(key.data != "talk" for key in self.selector.get_map().values())

    def heard(self, result: bytes, now: float) -> None:
        if self.fd is None:
            return
        self.pending += self.conversation.heard(result, now)
        self.write()

    def write(self) -> None:
        while self.pending:
            try:
                written = os.write(self.fd, self.pending[: 1 << 16])
            except BlockingIOError:
                break
            except OSError:  # the runner closed its end: nothing more can be said
                self.pending.clear()
                break
            del self.pending[:written]
        registered = self.fd in self.selector.get_map()
        if self.pending and not registered:
            self.selector.register(self.fd, selectors.EVENT_WRITE, "talk")
        elif not self.pending and registered:
            self.selector.unregister(self.fd)
        if not self.pending and self.conversation.finished:
            self.close()

    def remaining(self, now: float) -> float:
        deadline = getattr(self.conversation, "deadline", None)
        return float("inf") if deadline is None else max(0.0, deadline - now)

    def overran(self, now: float) -> bool:
        deadline = getattr(self.conversation, "deadline", None)
        return deadline is not None and now >= deadline

    def close(self) -> None:
        if self.fd is not None:
            if self.fd in self.selector.get_map():
                self.selector.unregister(self.fd)
            os.close(self.fd)
            self.fd = None


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
