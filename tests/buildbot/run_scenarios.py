#!/usr/bin/env python3
"""Builds on a real Buildbot master, for checking a Buildbot worker end to end.

    run_scenarios.py --worker python [--trace FILE] [options]
    run_scenarios.py --worker-cmd TEMPLATE [options]

Runs an unmodified Buildbot master (the versions pinned in requirements.txt
beside this file) on 127.0.0.1 with master.cfg beside this file, starts one
worker against it, forces builds through the master's REST API and checks
what the master recorded.  `--worker python` runs the stock Python worker,
the control: a scenario that fails with it is the harness's fault, one that
fails only with another worker is that worker's.  `--worker-cmd` runs any
other worker from a command line template, split like a shell would
(shlex) and then formatted word by word with

    {host} {port} {name} {password} {basedir} {keepalive} {max_delay}

for example

    --worker-cmd "target/release/spread-buildbot-worker --master {host}:{port}
                  --name {name} --password {password} --basedir {basedir}
                  --keepalive {keepalive} --max-delay {max_delay}"

The worker is started with SPREAD_WORKER_VAR=from-the-worker-env and
SPREAD_GONE=present added to this program's environment (the `env` scenario
needs them), in an empty base directory.

Only the standard library is used here, so any python3 can run this file: it
first makes sure the venv target/buildbot-venv holds exactly the pinned
requirements (installing it from PyPI when it is missing or its stamp differs
from requirements.txt) and runs the master and the Python worker from it.

Scenarios, in the order they run (--only NAME,NAME picks some; the ones
after master-restart need a worker that is still connected):

    shell-ok           argv command writing a line on stdout and one on stderr:
                       SUCCESS, both lines in the stdio log with their stream,
                       the exit-code header.
    shell-fail         string command (`/bin/sh -c`) exiting 3: FAILURE, the
                       line it printed, "exit code 3" in the log's header.
    env                env={SPREAD_GREETING: "hello ${SPREAD_WORKER_VAR}",
                       PATH: ["/spread/extra/bin", "${PATH}"], SPREAD_GONE:
                       None}: the expanded greeting, the list joined with ":"
                       around the worker's own PATH, SPREAD_GONE removed.
    cancel             `sleep 600`; once the worker has started it (its header
                       is in the log) the build is stopped over REST:
                       build and step CANCELLED within CANCEL_LIMIT.
    upload             FileUpload of a small and a multi-block file and
                       DirectoryUpload of a tree: the same bytes on the master.
    download           FileDownload of a small and a multi-block file, then
                       `cat` / `sha256sum` on the worker: the content and hash
                       in the log.
    fs                 MakeDirectory, FileExists, CopyDirectory,
                       RemoveDirectory and MultipleFileUpload(glob=True): the
                       globbed files and directory arrive on the master, the
                       removed directory is gone on the worker.
    git                Git source step on a local repository made here
                       (file:// URL), built twice: a clone, then, after a new
                       commit, an update of it.  Each time SUCCESS, the
                       committed file's content in the log and got_revision
                       equal to the commit.
    master-restart     the master is stopped (SIGTERM) and started again on the
                       same ports while the worker keeps running: the same
                       worker process connects again by itself within
                       RECONNECT_LIMIT and a shell-ok build succeeds.
    graceful-shutdown  the JSON-RPC `stop` action on the worker
                       (POST /api/v2/workers/ID): the master calls the
                       worker's shutdown(); the worker process exits with
                       status 0 within EXIT_LIMIT and the master lists it as
                       not connected.

What each scenario asks of the worker (PB calls and worker commands, with
the argument dictionaries the master sends) is written up in README.md beside
this file; `--worker python --trace FILE` records it again (worker_trace.py).

Every builder is forced through the scheduler `force` (JSON-RPC method
`force` on /api/v2/forceschedulers/force with the builder's id), and the
build is found by its build request and polled until complete.  Logs are read
from /api/v2/steps/ID/logs/stdio/contents, where each line starts with its
stream: o (stdout), e (stderr), h (header, written by the worker).

Output: one line per scenario, `ok NAME` or `FAIL NAME: detail`, then a
timing line, the worker's peak RSS (VmHWM of its process, sampled from
/proc while it runs) and its start-up time (process start until the master
lists it as connected), and last `N passed, M failed`.  The exit status is 0
iff every scenario passed.  On a failure the tails of the master's and the
worker's logs go to stderr.

Every wait has a limit, the whole run has RUN_LIMIT, and every child
process (master, worker) is stopped on the way out, whatever the way out.
The master and worker directories live in a temporary directory that is
removed at the end unless --keep is given.
"""

import argparse
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(ROOT, "target", "buildbot-venv")
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
MASTER_CFG = os.path.join(HERE, "master.cfg")

RUN_LIMIT = 300.0  # seconds for the whole run
MASTER_START_LIMIT = 60.0  # master process start until its REST API answers
MASTER_STOP_LIMIT = 30.0  # SIGTERM until the master process is gone
CONNECT_LIMIT = 30.0  # worker process start until the master lists it connected
RECONNECT_LIMIT = 60.0  # master restarted until the worker is connected again
BUILD_LIMIT = 60.0  # one forced build until it is complete
CANCEL_LIMIT = 30.0  # the stop request until the cancelled build is complete
EXIT_LIMIT = 30.0  # graceful shutdown asked until the worker process is gone
CHILD_STOP_LIMIT = 10.0  # SIGTERM until SIGKILL when cleaning up
POLL = 0.05  # seconds between two REST polls
HTTP_TIMEOUT = 10.0

WORKER_NAME = "w1"
PASSWORD = "spread-pass"
KEEPALIVE = 10  # the worker's keepalive interval, seconds
MAX_DELAY = 2  # the worker's longest reconnect delay, seconds

# Buildbot's result codes (buildbot.process.results).
SUCCESS, WARNINGS, FAILURE, SKIPPED, EXCEPTION, RETRY, CANCELLED = range(7)
RESULT_NAMES = ["SUCCESS", "WARNINGS", "FAILURE", "SKIPPED", "EXCEPTION", "RETRY", "CANCELLED"]

# What the worker's environment holds for the env scenario.
WORKER_VAR = "from-the-worker-env"

# Files of the upload and download scenarios.
UPLOAD_SMALL = b"spread upload payload\n"
UPLOAD_BIG = b"".join(b"%d\n" % i for i in range(1, 100001))  # `seq 1 100000`, 3 blocks of 256 KiB
DOWNLOAD_SMALL = b"spread download payload\nsecond line\n"
DOWNLOAD_BIG = b"".join(b"spread-download-%06d\n" % i for i in range(6000))
CHECKOUT_TEXT = "spread checkout content"
CHECKOUT_TEXT_2 = "spread checkout content, second commit"

SCENARIOS = [
    "shell-ok",
    "shell-fail",
    "env",
    "cancel",
    "upload",
    "download",
    "fs",
    "git",
    "master-restart",
    "graceful-shutdown",
]

_deadline = {"at": None}


class Failed(Exception):
    """A check did not hold; the message is the detail printed after FAIL."""


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def warn(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def remaining(limit):
    """`limit`, cut to what is left of the whole run; Failed once it is used up."""
    left = _deadline["at"] - time.monotonic()
    if left <= 0:
        raise Failed(f"the run's time limit ({RUN_LIMIT:.0f} s) is used up")
    return min(limit, left)


def wait_for(what, probe, limit):
    """Calls probe() every POLL seconds until it returns something other than None.

    Returns that; raises Failed naming `what` after `limit` seconds.  probe()
    may raise Failed itself to give up early (a process that died, say).
    """
    limit = remaining(limit)
    end = time.monotonic() + limit
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= end:
            raise Failed(f"{what}: not within {limit:.0f} s")
        time.sleep(POLL)


# ---------------------------------------------------------------------------
# The venv.


def ensure_venv():
    """Makes target/buildbot-venv hold exactly requirements.txt, unless it already does."""
    python = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, "spread-requirements.txt")
    with open(REQUIREMENTS, encoding="utf-8") as f:
        wanted = f.read()
    try:
        with open(stamp, encoding="utf-8") as f:
            if os.path.exists(python) and f.read() == wanted:
                return
    except FileNotFoundError:
        pass
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        sys.exit(
            f"run_scenarios.py: {VENV} does not match {REQUIREMENTS}; "
            "run this once with a python3 outside that venv to rebuild it"
        )
    started = time.monotonic()
    warn(f"installing the buildbot venv in {VENV}")
    base_python = os.environ.get("PYTHON", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--clear", VENV], check=True)
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # Every package is pinned, so nothing unpinned may come in on the side.
    subprocess.run(pip + ["install", "--no-deps", "-r", REQUIREMENTS], check=True)
    subprocess.run(pip + ["check"], check=True)
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(wanted)
    warn(f"installed the buildbot venv in {time.monotonic() - started:.1f} s")


def venv_bin(program):
    return os.path.join(VENV, "bin", program)


# ---------------------------------------------------------------------------
# Child processes.


class Child:
    """A child process in its own session, its output appended to `log_path`."""

    def __init__(self, name, argv, cwd, env, log_path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.peak_rss_kib = 0
        with open(log_path, "ab") as log:
            log.write(f"--- {name}: {shlex.join(argv)}\n".encode())
            log.flush()
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._sampling = False

    @property
    def pid(self):
        return self.proc.pid

    def exited(self):
        """The exit status, or None while it runs."""
        return self.proc.poll()

    def require_alive(self):
        code = self.exited()
        if code is not None:
            raise Failed(f"the {self.name} process exited with status {code}")

    def sample_rss(self):
        """Starts a thread noting the process's VmHWM (peak RSS) until it exits."""
        self._sampling = True

        def sample():
            path = f"/proc/{self.pid}/status"
            while self._sampling and self.exited() is None:
                try:
                    with open(path, encoding="ascii") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                kib = int(line.split()[1])
                                self.peak_rss_kib = max(self.peak_rss_kib, kib)
                except (OSError, ValueError):
                    pass
                time.sleep(0.1)

        threading.Thread(target=sample, daemon=True).start()

    def stop(self, limit=CHILD_STOP_LIMIT):
        """SIGTERM to its process group, SIGKILL after `limit` s; the exit status."""
        self._sampling = False
        if self.exited() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                warn(f"run_scenarios.py: the {self.name} did not stop on SIGTERM; killing it")
        try:
            os.killpg(self.pid, signal.SIGKILL)  # whatever is left of its group
        except (ProcessLookupError, PermissionError):
            pass
        return self.proc.wait()


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"({path}: {e})"
    return "\n".join(text.splitlines()[-lines:])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# The master's REST API.


class Rest:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v2"

    def _request(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:500]
            raise Failed(f"{'POST' if data else 'GET'} {path}: HTTP {e.code} {detail}") from e
        except (urllib.error.URLError, OSError) as e:
            raise Failed(f"{'POST' if data else 'GET'} {path}: {e}") from e

    def get(self, path):
        return self._request(path)

    def answers(self):
        """True when the API answers at all (the master is up), else False."""
        try:
            self.get("/builders")
            return True
        except Failed:
            return False

    def rpc(self, path, method, params):
        """A JSON-RPC 2.0 control call; its result."""
        answer = self._request(path, {"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
        if "error" in answer:
            raise Failed(f"{method} on {path}: {answer['error']}")
        return answer.get("result")


# ---------------------------------------------------------------------------
# The run.


class Run:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.master_dir = os.path.join(tmp, "master")
        self.worker_dir = os.path.join(tmp, "worker")
        self.repo_dir = os.path.join(tmp, "repo")
        self.pb_port = free_port()
        self.www_port = free_port()
        self.rest = Rest(self.www_port)
        self.master = None
        self.worker = None
        self.children = []
        self.builder_ids = {}
        self.commit = None
        self.startup_seconds = None
        self.reconnect_seconds = None
        self.worker_env = dict(os.environ, SPREAD_WORKER_VAR=WORKER_VAR, SPREAD_GONE="present")
        self.worker_env.pop("PYTHONPATH", None)

    # -- setting up ---------------------------------------------------------

    def make_repo(self):
        """A git repository with one commit holding spread-checkout.txt."""
        os.makedirs(self.repo_dir)
        self.git("init", "-q")
        self.commit_to_repo(CHECKOUT_TEXT)

    def commit_to_repo(self, text):
        """Commits spread-checkout.txt holding `text`; notes the commit in self.commit."""
        with open(os.path.join(self.repo_dir, "spread-checkout.txt"), "w", encoding="utf-8") as f:
            f.write(text + "\n")
        self.git("add", "spread-checkout.txt")
        self.git("commit", "-q", "-m", "spread harness commit")
        self.commit = self.git("rev-parse", "HEAD")

    def git(self, *argv):
        """Runs git in the repository with a fixed identity; its stdout, stripped."""
        env = dict(
            os.environ,
            GIT_AUTHOR_NAME="spread",
            GIT_AUTHOR_EMAIL="spread@example.invalid",
            GIT_COMMITTER_NAME="spread",
            GIT_COMMITTER_EMAIL="spread@example.invalid",
            GIT_CONFIG_NOSYSTEM="1",
            HOME=self.tmp,
        )
        return subprocess.run(
            ["git", *argv], cwd=self.repo_dir, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def make_master(self):
        subprocess.run(
            [venv_bin("buildbot"), "create-master", "--quiet", self.master_dir],
            check=True,
            capture_output=True,
        )
        shutil.copy(MASTER_CFG, os.path.join(self.master_dir, "master.cfg"))
        download = os.path.join(self.master_dir, "download")
        os.makedirs(download)
        for name, content in (("small.txt", DOWNLOAD_SMALL), ("big.txt", DOWNLOAD_BIG)):
            with open(os.path.join(download, name), "wb") as f:
                f.write(content)

    def start_master(self):
        env = dict(
            os.environ,
            SPREAD_BB_PB_PORT=str(self.pb_port),
            SPREAD_BB_WWW_PORT=str(self.www_port),
            SPREAD_BB_WORKER_PASSWORD=PASSWORD,
            SPREAD_BB_GIT_REPO="file://" + self.repo_dir,
        )
        env.pop("PYTHONPATH", None)
        self.master = Child(
            "master",
            [venv_bin("buildbot"), "start", "--nodaemon", self.master_dir],
            self.master_dir,
            env,
            os.path.join(self.tmp, "master-console.log"),
        )
        self.children.append(self.master)

        def up():
            self.master.require_alive()
            return True if self.rest.answers() else None

        wait_for("the master's REST API to answer", up, MASTER_START_LIMIT)

    def worker_argv(self):
        if self.args.worker == "python":
            return [venv_bin("buildbot-worker"), "start", "--nodaemon", self.worker_dir]
        values = {
            "host": "127.0.0.1",
            "port": self.pb_port,
            "name": WORKER_NAME,
            "password": PASSWORD,
            "basedir": self.worker_dir,
            "keepalive": KEEPALIVE,
            "max_delay": MAX_DELAY,
        }
        return [word.format(**values) for word in shlex.split(self.args.worker_cmd)]

    def make_worker(self):
        if self.args.worker != "python":
            os.makedirs(self.worker_dir)
            return
        subprocess.run(
            [
                venv_bin("buildbot-worker"),
                "create-worker",
                "--quiet",
                f"--keepalive={KEEPALIVE}",
                # buildbot-worker 4.3.0 accepts --maxdelay but no longer uses
                # it: its reconnect delay follows Twisted's backoffPolicy().
                f"--maxdelay={MAX_DELAY}",
                self.worker_dir,
                f"127.0.0.1:{self.pb_port}",
                WORKER_NAME,
                PASSWORD,
            ],
            check=True,
            capture_output=True,
        )
        if self.args.trace:
            with open(os.path.join(self.worker_dir, "buildbot.tac"), "a", encoding="utf-8") as f:
                f.write(
                    f"\nimport sys; sys.path.insert(0, {HERE!r})\n"
                    f"import worker_trace; worker_trace.install({os.path.abspath(self.args.trace)!r})\n"
                )

    def worker_logs(self):
        logs = [os.path.join(self.tmp, "worker-console.log")]
        if self.args.worker == "python":
            logs.append(os.path.join(self.worker_dir, "twistd.log"))
        return logs

    def start_worker(self):
        self.worker = Child(
            "worker", self.worker_argv(), self.tmp, self.worker_env, self.worker_logs()[0]
        )
        self.children.append(self.worker)
        self.worker.sample_rss()
        self.wait_connected(CONNECT_LIMIT)
        self.startup_seconds = time.monotonic() - self.worker.started

    def worker_record(self):
        workers = self.rest.get(f"/workers?name={WORKER_NAME}")["workers"]
        if not workers:
            raise Failed(f"the master lists no worker {WORKER_NAME}")
        return workers[0]

    def wait_connected(self, limit):
        def connected():
            self.master.require_alive()
            self.worker.require_alive()
            return True if self.worker_record()["connected_to"] else None

        wait_for("the master to list the worker as connected", connected, limit)

    def find_builders(self):
        for builder in self.rest.get("/builders")["builders"]:
            self.builder_ids[builder["name"]] = builder["builderid"]

    # -- builds -------------------------------------------------------------

    def force(self, builder):
        """Forces a build on `builder`; the build request's id."""
        result = self.rest.rpc(
            "/forceschedulers/force", "force", {"builderid": self.builder_ids[builder]}
        )
        # [buildsetid, {builderid: buildrequestid}]
        requests = result[1]
        return int(next(iter(requests.values())))

    def build_of(self, request_id):
        builds = self.rest.get(f"/builds?buildrequestid={request_id}")["builds"]
        return builds[-1] if builds else None

    def wait_build(self, request_id, limit=BUILD_LIMIT):
        def complete():
            self.master.require_alive()
            build = self.build_of(request_id)
            return build if build and build["complete"] else None

        return wait_for(f"build request {request_id} to finish", complete, limit)

    def run_build(self, builder):
        return self.wait_build(self.force(builder))

    def steps(self, build):
        return self.rest.get(f"/builds/{build['buildid']}/steps")["steps"]

    def step(self, build, name):
        for step in self.steps(build):
            if step["name"] == name:
                return step
        names = [s["name"] for s in self.steps(build)]
        raise Failed(f"build {build['number']} of builder {build['builderid']} has no step {name!r} ({names})")

    def log_lines(self, step, slug="stdio"):
        """The step's log as (stream, text) pairs; stream is o, e or h."""
        chunks = self.rest.get(f"/steps/{step['stepid']}/logs/{slug}/contents")["logchunks"]
        text = "".join(chunk["content"] for chunk in chunks)
        return [(line[:1], line[1:]) for line in text.splitlines()]

    # -- checks -------------------------------------------------------------

    @staticmethod
    def expect_result(what, record, wanted):
        got = record["results"]
        if got != wanted:
            name = RESULT_NAMES[got] if isinstance(got, int) and 0 <= got < 7 else got
            raise Failed(
                f"{what}: result {name}, expected {RESULT_NAMES[wanted]}"
                f" (state: {record.get('state_string')!r})"
            )

    @staticmethod
    def expect_line(what, lines, stream, text):
        if (stream, text) not in lines:
            shown = "\n".join(f"  {s} {t}" for s, t in lines[-15:])
            raise Failed(f"{what}: no {stream!r} line {text!r} in the log; its end:\n{shown}")

    @staticmethod
    def expect_header(what, lines, fragment):
        if not any(s == "h" and fragment in t for s, t in lines):
            headers = "\n".join(f"  {t}" for s, t in lines if s == "h")
            raise Failed(f"{what}: no header line with {fragment!r}; the headers:\n{headers}")

    def expect_file(self, relative, content):
        path = os.path.join(self.master_dir, relative)
        try:
            with open(path, "rb") as f:
                got = f.read()
        except OSError as e:
            raise Failed(f"{relative} on the master: {e}") from e
        if got != content:
            raise Failed(
                f"{relative} on the master: {len(got)} bytes, expected {len(content)}"
                f" (starts {got[:40]!r})"
            )

    # -- scenarios ----------------------------------------------------------

    def scenario_shell_ok(self):
        build = self.run_build("shell-ok")
        self.expect_result("build", build, SUCCESS)
        step = self.step(build, "say")
        self.expect_result("step say", step, SUCCESS)
        lines = self.log_lines(step)
        self.expect_line("step say", lines, "o", "spread-stdout-line")
        self.expect_line("step say", lines, "e", "spread-stderr-line")
        self.expect_header("step say", lines, "exit code 0")

    def scenario_shell_fail(self):
        build = self.run_build("shell-fail")
        self.expect_result("build", build, FAILURE)
        step = self.step(build, "fail")
        self.expect_result("step fail", step, FAILURE)
        lines = self.log_lines(step)
        self.expect_line("step fail", lines, "o", "spread-about-to-fail")
        self.expect_header("step fail", lines, "exit code 3")

    def scenario_env(self):
        build = self.run_build("env")
        self.expect_result("build", build, SUCCESS)
        step = self.step(build, "print-env")
        lines = self.log_lines(step)
        path = "/spread/extra/bin" + os.pathsep + self.worker_env["PATH"]
        self.expect_line("step print-env", lines, "o", f"greeting=[hello {WORKER_VAR}]")
        self.expect_line("step print-env", lines, "o", f"path=[{path}]")
        self.expect_line("step print-env", lines, "o", "gone=[unset]")

    def scenario_cancel(self):
        request_id = self.force("cancel")
        build = wait_for("the cancel build to start", lambda: self.build_of(request_id), BUILD_LIMIT)

        def sleeping():
            # The worker writes its header once it has started the process.
            self.worker.require_alive()
            step = next((s for s in self.steps(build) if s["name"] == "sleep"), None)
            if step is None or step["started_at"] is None:
                return None
            try:
                lines = self.log_lines(step)
            except Failed:
                return None  # the log is not there yet
            return step if any(s == "h" and "sleep" in t for s, t in lines) else None

        wait_for("the worker to start `sleep 600`", sleeping, BUILD_LIMIT)
        asked = time.monotonic()
        self.rest.rpc(f"/builds/{build['buildid']}", "stop", {"reason": "spread harness cancel"})
        build = self.wait_build(request_id, CANCEL_LIMIT)
        took = time.monotonic() - asked
        self.expect_result("build", build, CANCELLED)
        step = self.step(build, "sleep")
        self.expect_result("step sleep", step, CANCELLED)
        self.cancel_seconds = took

    def scenario_upload(self):
        build = self.run_build("upload")
        self.expect_result("build", build, SUCCESS)
        self.expect_file("uploaded/small.txt", UPLOAD_SMALL)
        self.expect_file("uploaded/big.txt", UPLOAD_BIG)
        self.expect_file("uploaded/tree/a.txt", b"spread-tree-a\n")
        self.expect_file("uploaded/tree/sub/b.txt", b"spread-tree-b\n")

    def scenario_download(self):
        build = self.run_build("download")
        self.expect_result("build", build, SUCCESS)
        step = self.step(build, "read-back")
        lines = self.log_lines(step)
        for text in DOWNLOAD_SMALL.decode().splitlines():
            self.expect_line("step read-back", lines, "o", text)
        digest = hashlib.sha256(DOWNLOAD_BIG).hexdigest()
        self.expect_line("step read-back", lines, "o", f"{digest}  fetched-big.txt")

    def scenario_fs(self):
        build = self.run_build("fs")
        self.expect_result("build", build, SUCCESS)
        self.expect_file("uploaded/glob/one.txt", b"spread-one\n")
        self.expect_file("uploaded/glob/two.txt", b"spread-two\n")
        self.expect_file("uploaded/glob/sub/three.txt", b"spread-three\n")
        lines = self.log_lines(self.step(build, "look"))
        for text in ("made-is-gone", "one.txt", "sub", "two.txt"):
            self.expect_line("step look", lines, "o", text)

    def scenario_git(self):
        for what, text in (("clone", CHECKOUT_TEXT), ("update", CHECKOUT_TEXT_2)):
            if what == "update":
                self.commit_to_repo(text)
            build = self.run_build("git")
            self.expect_result(f"{what}: build", build, SUCCESS)
            step = self.step(build, "show")
            self.expect_line(f"{what}: step show", self.log_lines(step), "o", text)
            record = self.rest.get(f"/builds/{build['buildid']}?property=got_revision")["builds"][0]
            got = record.get("properties", {}).get("got_revision", [None])[0]
            if got != self.commit:
                raise Failed(f"{what}: got_revision {got!r}, expected the commit {self.commit}")

    def scenario_master_restart(self):
        worker_pid = self.worker.pid
        self.master._sampling = False
        os.killpg(self.master.pid, signal.SIGTERM)
        try:
            self.master.proc.wait(timeout=remaining(MASTER_STOP_LIMIT))
        except subprocess.TimeoutExpired as e:
            raise Failed(f"the master did not stop within {MASTER_STOP_LIMIT:.0f} s of SIGTERM") from e
        self.worker.require_alive()
        # A master marks its own worker connections gone when it starts (in
        # case it had crashed), before its REST API answers: the connection
        # waited for below is a new one.
        self.start_master()
        back = time.monotonic()
        self.wait_connected(RECONNECT_LIMIT)
        self.reconnect_seconds = time.monotonic() - back
        if self.worker.pid != worker_pid or self.worker.exited() is not None:
            raise Failed("the worker process did not survive the master's restart")
        self.scenario_shell_ok()

    def scenario_graceful_shutdown(self):
        workerid = self.worker_record()["workerid"]
        self.rest.rpc(f"/workers/{workerid}", "stop", {"reason": "spread harness shutdown"})
        try:
            code = self.worker.proc.wait(timeout=remaining(EXIT_LIMIT))
        except subprocess.TimeoutExpired as e:
            raise Failed(f"the worker still runs {EXIT_LIMIT:.0f} s after the stop request") from e
        if code != 0:
            raise Failed(f"the worker exited with status {code}, expected 0")

        def disconnected():
            self.master.require_alive()
            return True if not self.worker_record()["connected_to"] else None

        wait_for("the master to list the worker as disconnected", disconnected, CONNECT_LIMIT)


def run_one(run, name, tally):
    try:
        getattr(run, "scenario_" + name.replace("-", "_"))()
    except Failed as e:
        say(f"FAIL {name}: {e}")
        tally["failed"] += 1
        return
    except Exception as e:  # a fault of the harness itself: reported, and the run goes on
        say(f"FAIL {name}: {type(e).__name__}: {e}")
        tally["failed"] += 1
        return
    say(f"ok {name}")
    tally["passed"] += 1


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="run_scenarios.py",
        description="Builds on a real Buildbot master with one worker; see the module docstring.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--worker", choices=["python"], help="the stock Python worker (the control)")
    which.add_argument("--worker-cmd", help="a worker's command line template ({port}, {basedir}, ...)")
    parser.add_argument("--trace", help="with --worker python: record its PB calls (JSON lines) here")
    parser.add_argument("--only", help="comma-separated scenarios to run (default: all, in order)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv[1:])
    if args.trace and args.worker != "python":
        parser.error("--trace works with --worker python only")
    args.scenarios = SCENARIOS
    if args.only:
        args.scenarios = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in args.scenarios if s not in SCENARIOS]
        if unknown:
            parser.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
        args.scenarios = [s for s in SCENARIOS if s in args.scenarios]
    return args


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    ensure_venv()
    venv_seconds = time.monotonic() - started
    _deadline["at"] = time.monotonic() + RUN_LIMIT
    tmp = tempfile.mkdtemp(prefix="spread-buildbot-")
    run = Run(args, tmp)
    tally = {"passed": 0, "failed": 0}
    setup_failed = False
    try:
        try:
            run.make_repo()
            run.make_master()
            run.make_worker()
            run.start_master()
            run.find_builders()
            run.start_worker()
        except (Failed, subprocess.CalledProcessError) as e:
            detail = e
            if isinstance(e, subprocess.CalledProcessError):
                detail = f"{shlex.join(map(str, e.cmd))} exited {e.returncode}: {e.stderr!r}"
            say(f"FAIL setup: {detail}")
            tally["failed"] += 1
            setup_failed = True
        if not setup_failed:
            for name in args.scenarios:
                run_one(run, name, tally)
    except KeyboardInterrupt:
        say("FAIL interrupted")
        tally["failed"] += 1
    finally:
        stopped = [(child, child.stop()) for child in reversed(run.children)]
        if tally["failed"]:
            for path in [os.path.join(tmp, "master-console.log"), os.path.join(run.master_dir, "twistd.log")]:
                warn(f"==> {path} (tail) <==\n{tail(path)}")
            for path in run.worker_logs():
                warn(f"==> {path} (tail) <==\n{tail(path)}")
            for child, code in stopped:
                warn(f"{child.name} (pid {child.pid}) exit status {code}")
        if args.keep:
            warn(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    total = time.monotonic() - started
    say(
        f"timing: {total:.1f} s in all (venv check or install {venv_seconds:.1f} s)"
        + (f"; cancel answered in {run.cancel_seconds:.2f} s" if getattr(run, "cancel_seconds", None) else "")
        + (f"; reconnected {run.reconnect_seconds:.2f} s after the master was back" if run.reconnect_seconds else "")
    )
    if run.worker is not None:
        startup = f"{run.startup_seconds:.2f} s" if run.startup_seconds is not None else "never connected"
        say(
            f"worker: peak RSS (VmHWM) {run.worker.peak_rss_kib / 1024:.1f} MiB;"
            f" start-up {startup} (process start to connected at the master);"
            f" {shlex.join(run.worker.argv)}"
        )
    say(f"{tally['passed']} passed, {tally['failed']} failed")
    return 0 if tally["failed"] == 0 and tally["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
