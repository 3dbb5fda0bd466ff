"""Privacy: the whole pipeline runs with the network cut off, and writes nothing outside
the project folder, the model cache and the files it was asked to export.

The pipeline is the researcher's path through the `qda` command (import, transcribe a
recording with Whisper, code-fit suggestions and topics with the embedding model, a
cross-tab report, transcript and project exports, a backup) run in a network namespace
of its own (`unshare --net`: no interface but loopback), under `strace` (with a seccomp
filter, so only the traced calls stop the processes), which records every file the
processes open for writing, create, rename or remove.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qda.ui.settings import STREAMLIT_SETTINGS
from tests.browser import debian_tool
from tests.conftest import REPO

pytestmark = pytest.mark.slow

SAMPLES = REPO / "sample_transcripts"
QDA = [sys.executable, "-m", "qda.cli"]
WRITING_CALLS = (
    "open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,unlink,unlinkat,truncate"
)


def installed(tool: str) -> str:
    """Path of a Debian tool, installed if missing (as the browser tests do Chromium)."""
    found = debian_tool(tool)
    if found is None:
        pytest.skip(f"{tool} is not installed (sudo apt-get install {tool})")
    return found


def offline(command: list[str]) -> list[str]:
    """`command` in a network namespace with no way out (no root needed: a user
    namespace maps the current user)."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"network namespaces are not available here: {probe.stderr.decode()}")
    return ["unshare", "-rn", *command]


def pipeline(project: Path, exports: Path) -> str:
    """The researcher's path, as one shell script."""
    p, e = str(project), str(exports)
    steps = [
        [*QDA, "init", p, "--name", "Offline study"],
        [*QDA, "import-participants", p, str(SAMPLES / "participants.csv")],
        [*QDA, "import-transcripts", p, *map(str, sorted(SAMPLES.glob("P[01]*_*.*"))),
         "--participants-csv", str(SAMPLES / "participants.csv")],
        [*QDA, "import-codebook", p, str(REPO / "codebooks" / "digital_access.yaml")],
        [*QDA, "import-codings", p, str(SAMPLES / "codings_first_pass.csv")],
        [*QDA, "transcribe", str(SAMPLES / "recordings" / "P15_lorraine.opus"), "--project", p,
         "--participant", "P15", "--language", "en"],
        [*QDA, "suggest", p, "--codes", "--format", "json"],
        [*QDA, "suggest", p, "--themes", "--format", "json"],
        [*QDA, "crosstab", p, "--format", "docx", "-o", f"{e}/report.docx"],
        [*QDA, "crosstab", p, "--format", "xlsx", "-o", f"{e}/crosstab.xlsx"],
        [*QDA, "export-transcript", p, "P15", "--format", "docx", "-o", f"{e}/P15.docx"],
        [*QDA, "export-qdpx", p, f"{e}/study.qdpx"],
        [*QDA, "backup", p],
    ]  # fmt: skip
    return "set -e\n" + "\n".join(" ".join(f"'{a}'" for a in step) for step in steps)


def written_paths(trace: Path, cwd: Path) -> set[str]:
    """Every path a traced process opened for writing, created, renamed or removed. A
    path relative to a directory descriptor (`unlinkat(3, "x")`) is resolved through the
    `openat` that returned that descriptor in the same process."""
    paths: set[str] = set()
    opened: dict[tuple[str, str], Path] = {}
    call = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")
    for line in trace.read_text(errors="replace").splitlines():
        m = call.match(line)
        if not m or m.group(4).startswith("-"):
            continue  # failed calls wrote nothing
        pid, name, args, result = m.groups()
        found = []
        for dirfd, text in re.findall(r'(?:(AT_FDCWD|\d+), )?"((?:[^"\\]|\\.)*)"', args):
            base = opened.get((pid, dirfd), cwd) if dirfd.isdigit() else cwd
            found.append(os.path.normpath(Path(text) if text.startswith("/") else base / text))
        if name in ("open", "openat"):
            opened[(pid, result)] = Path(found[0])
            if not re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", args):
                continue
            found = found[:1]
        paths.update(found)
    return paths


def test_the_whole_pipeline_runs_offline_and_writes_only_where_it_should(tmp_path, model_cache):
    strace = installed("strace")
    project, exports = tmp_path / "study", tmp_path / "exports"
    home, temp, cwd = tmp_path / "home", tmp_path / "tmp", tmp_path / "cwd"
    for folder in (exports, home, temp, cwd):
        folder.mkdir()
    trace = tmp_path / "trace.log"
    script = tmp_path / "pipeline.sh"
    script.write_text(pipeline(project, exports))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "TMPDIR": str(temp),
        "QDA_MODEL_CACHE": str(model_cache),
        "QDA_USER": "anna",
        "LANG": "C.UTF-8",
    }
    command = offline(
        [
            strace,
            "-f",
            "-qq",
            "--seccomp-bpf",
            "-e",
            f"trace={WRITING_CALLS}",
            "-o",
            str(trace),
            "bash",
            str(script),
        ]
    )
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "queued job" in done.stdout and "done" in done.stdout + done.stderr
    written = written_paths(trace, cwd)
    # the trace sees what it must see: the project's database, the exports, the recording
    assert {str(project / "project.sqlite"), str(exports / "report.docx")} <= written
    assert any(p.startswith(str(project / "media") + "/") for p in written)
    allowed = [project, exports, model_cache, Path("/dev/null")]
    outside = sorted(
        p
        for p in written
        if not any(p == str(a) or p.startswith(f"{a}/") for a in allowed)
        # POSIX semaphores of joblib and multiprocessing: kernel objects, not files
        and not p.startswith("/dev/shm/sem.")
        # compiled code of the installed packages (Python bytecode, numba), not data
        and "/__pycache__" not in p
    )
    assert outside == [], outside
    assert list(home.iterdir()) == [] and list(temp.iterdir()) == []
    assert {p.name for p in exports.iterdir()} == {
        "report.docx", "crosstab.xlsx", "P15.docx", "study.qdpx",
    }  # fmt: skip


def test_the_trace_catches_a_file_written_outside(tmp_path):
    """The check above would fail: a child process's write into the home folder, and a
    removal through a directory descriptor (as shutil.rmtree does), are both seen."""
    strace = installed("strace")
    trace = tmp_path / "trace.log"
    script = (
        "import os, pathlib, shutil, subprocess;"
        f"subprocess.run(['touch', '{tmp_path}/home-leak']);"
        f"d = pathlib.Path('{tmp_path}/scratch/inner'); d.mkdir(parents=True);"
        "(d / 'quote.txt').write_text('x'); shutil.rmtree(d.parent)"
    )
    subprocess.run(
        [strace, "-f", "-qq", "--seccomp-bpf", "-e", f"trace={WRITING_CALLS}", "-o", str(trace),
         sys.executable, "-c", script],
        check=True,
    )  # fmt: skip
    written = written_paths(trace, tmp_path)
    assert str(tmp_path / "home-leak") in written
    assert str(tmp_path / "scratch" / "inner" / "quote.txt") in written


def test_the_app_sends_no_usage_statistics_and_serves_this_computer_only():
    assert STREAMLIT_SETTINGS["browser.gatherUsageStats"] == "false"
    assert STREAMLIT_SETTINGS["server.address"] == "localhost"
    config = (REPO / ".streamlit" / "config.toml").read_text()
    assert "gatherUsageStats = false" in config and 'address = "localhost"' in config


def _websocket_status(port: int, host: str, origin: str) -> int:
    """The HTTP status the app answers a WebSocket handshake with (101: connected)."""
    import base64
    import socket

    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        status_line = s.recv(4096).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_a_page_from_another_host_gets_no_connection_to_the_app(demo_copy, tmp_path):
    """DNS rebinding: a web page elsewhere that points a name of its own at 127.0.0.1
    reaches the port, but the app refuses the connection that would show the project."""
    from tests.browser import running_app

    with running_app(demo_copy, tmp_path / "app.log") as url:
        port = int(url.rsplit(":", 1)[1])
        assert _websocket_status(port, f"localhost:{port}", url) == 101
        assert _websocket_status(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}") == 101
        rebound = f"rebind.example:{port}"
        assert _websocket_status(port, rebound, f"http://{rebound}") == 403
        assert _websocket_status(port, f"localhost:{port}", "http://203.0.113.9") == 403
