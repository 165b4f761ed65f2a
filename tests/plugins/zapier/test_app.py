"""The Zapier app's own suite (plugins/zapier/app/test) against a live hub on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.hub_runner import API_KEY, RunningHub
from tests.plugins.zapier.conftest import write_config, zapier_store
from tests.smtp_capture import CaptureServer

APP = Path(__file__).resolve().parents[3] / "plugins" / "zapier" / "app"


def test_the_zapier_app_suite_passes_against_a_live_hub(
    tmp_path: Path, smtp: CaptureServer
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed, so the Zapier app's tests cannot run")
    if not (APP / "node_modules" / "zapier-platform-core").is_dir():
        pytest.skip(f"the Zapier app's packages are not installed: run 'npm ci' in {APP}")
    with RunningHub(write_config(tmp_path, smtp, zapier_store())) as hub:
        env = {**os.environ, "TIDINGS_URL": hub.url, "TIDINGS_API_KEY": API_KEY,
               "TIDINGS_STORE": "zap", "NO_COLOR": "1"}
        env.pop("LOGGING_TOKEN", None)  # never ship logs to Zapier from a test
        done = subprocess.run([node, "--test", "test/"], cwd=APP, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert "# fail 0" in report and "# SKIP" not in report, report
    assert "# pass 7" in report, report
