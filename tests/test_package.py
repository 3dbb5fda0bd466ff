"""Properties of the package as a whole: layering, privacy settings, lint."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib

from qda.ui.settings import STREAMLIT_SETTINGS
from tests.conftest import REPO


def test_import_qda_leaves_streamlit_and_the_engines_out():
    code = (
        "import sys, qda, qda.demo, qda.cli, qda.overview, qda.jobs, qda.transcribe, qda.export; "
        "print(sorted(m for m in ('streamlit', 'torch', 'ctranslate2', 'whisper') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_streamlit_config_file_and_app_flags_agree():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    flat = {
        f"{section}.{key}": str(value).lower()
        if isinstance(value, bool)
        else (value if isinstance(value, list) else str(value))
        for section, values in config.items()
        for key, value in values.items()
    }
    assert flat == STREAMLIT_SETTINGS
    assert flat["browser.gatherUsageStats"] == "false"
    assert flat["server.address"] == "localhost"
    assert int(flat["server.maxUploadSize"]) * 1_000_000 > 2 * 3600 * 44_100 * 2 * 2


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = next(line for line in ci.splitlines() if "pytest" in line).strip()
    assert command in readme


def test_code_passes_ruff():
    ruff = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or shutil.which("ruff")
    out = subprocess.run(
        [ruff, "check", "qda", "tests", "app.py", "sample_transcripts", "bench"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout
