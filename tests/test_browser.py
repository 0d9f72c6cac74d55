"""A real browser runs lesson 04 in JupyterLab and moves the mix-ratio slider.

JupyterLab is started on loopback (127.0.0.1, a random free port, a throw-away
token, ``--no-browser``) in quick mode, on a copy of ``lessons/04_mixing_real_data.ipynb``
in a temporary folder. Debian's Chromium (``apt-get install chromium``; no
browser download) is driven by Playwright for Python with ``executable_path``.
The test runs every cell, drags the "real fraction λ" slider, checks that the
explorer's figure changed, and saves a screenshot under ``test-artifacts/``.

Skipped, with the reason, when Chromium or Playwright is missing. Set
``COLLAPSE_KIT_CHROMIUM`` to use a Chromium at another path.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "04_mixing_real_data.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("COLLAPSE_KIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
SERVER_START_S = 90
RUN_ALL_S = 300
REDRAW_S = 90


def _skip_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return (f"Chromium not found at {CHROMIUM}: install Debian's package (`apt-get install chromium`) "
                "or set COLLAPSE_KIT_CHROMIUM; `.ci/run` installs it so CI always runs this test.")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (`pip install playwright`; no browser download needed)."
    if shutil.which("jupyter-lab", path=str(Path(sys.executable).parent)) is None:
        try:
            import jupyterlab  # noqa: F401
        except ImportError:
            return "JupyterLab is not installed in this environment."
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def lab(tmp_path):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(LESSON, work / LESSON.name)
    # user settings: render every cell (no lazy "windowing", so the explorer is always in the page)
    # and no "Jupyter news?" toast over the figure
    settings = tmp_path / "settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none", "autoStartDefaultKernel": true}')
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}')
    port, token = _free_port(), uuid.uuid4().hex
    env = dict(os.environ, COLLAPSE_KIT_QUICK="1", HF_HUB_OFFLINE="1", MPLBACKEND="module://matplotlib_inline.backend_inline",
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               IPYTHONDIR=str(tmp_path / "ipython"), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
           f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--ServerApp.open_browser=False", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{(tmp_path / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_S} s.")
            time.sleep(0.5)
        yield url, token, work
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def _figure_src(page) -> str:
    """The PNG of the explorer's current figure (inside its Output widget)."""
    img = page.locator(".widget-vbox:has-text('Mix-ratio explorer') .jp-OutputArea-output img").last
    return img.get_attribute("src", timeout=REDRAW_S * 1000) or ""


def _accept_kernel_dialog(page, wait_s: float = 5.0) -> None:
    """Accept JupyterLab's "Select Kernel" dialog (Python 3) if it shows up."""
    dialog = page.locator(".jp-Dialog:has-text('Select Kernel')")
    try:
        dialog.first.wait_for(timeout=wait_s * 1000)
    except Exception:  # no dialog: the kernel started on its own
        return
    dialog.locator("button.jp-mod-accept").first.click()
    dialog.first.wait_for(state="detached", timeout=30_000)


def test_lesson04_slider_redraws_in_real_browser(lab):
    from playwright.sync_api import expect, sync_playwright

    url, token, work = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = None
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{LESSON.name}?token={token}", wait_until="domcontentloaded")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=120_000)
            _accept_kernel_dialog(page)
            # the kernel must be up before "Run All Cells"
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                         ".jp-KernelStatus:has-text('Idle')").first.wait_for(timeout=120_000)
            _accept_kernel_dialog(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            # the last code cell prints this once every cell above has run
            page.get_by_text("median spread kept at generation 50").first.wait_for(timeout=RUN_ALL_S * 1000)
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                  ":has-text('Traceback')")
            assert errors.count() == 0, errors.first.inner_text()

            # JupyterLab renders off-screen cells lazily: bring the explorer's title into view first
            title = page.get_by_text("Mix-ratio explorer: how much real data").first
            title.scroll_into_view_if_needed()
            explorer = page.locator(".widget-vbox:has-text('Mix-ratio explorer')").first
            explorer.scroll_into_view_if_needed()
            before = _figure_src(page)
            assert before.startswith("data:image/png"), "the explorer shows no figure"
            news = page.locator(".jp-toast-button:has-text('No')")  # JupyterLab's "Jupyter news?" toast
            if news.count():
                news.first.click()
            explorer.screenshot(path=str(ARTIFACTS / "browser_lesson04_before.png"))

            row = explorer.locator(".widget-slider:has-text('real fraction')").first
            readout = row.locator(".widget-readout").first
            old_value = readout.inner_text().strip()
            handle = row.locator(".noUi-handle").first
            box = handle.bounding_box()
            track = row.locator(".noUi-target, .slider-container").first.bounding_box()
            assert box and track, "slider not rendered"
            # drag the handle to about 60% of the track (a real mouse drag; released -> one redraw)
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(track["x"] + 0.6 * track["width"], box["y"] + box["height"] / 2, steps=12)
            page.mouse.up()
            if readout.inner_text().strip() == old_value:  # fall back to the keyboard if the drag missed
                handle.focus()
                for _ in range(5):
                    page.keyboard.press("ArrowRight")
            expect(readout).not_to_have_text(old_value, timeout=10_000)
            new_value = readout.inner_text().strip()
            print(f"real fraction slider moved from {old_value} to {new_value}")

            page.wait_for_function(
                """([sel, old]) => { const imgs = document.querySelectorAll(sel);
                                      const img = imgs[imgs.length - 1];
                                      return img && img.src && img.src !== old; }""",
                arg=[".widget-vbox .jp-OutputArea-output img", before], timeout=REDRAW_S * 1000)
            after = _figure_src(page)
            explorer.screenshot(path=str(ARTIFACTS / "browser_lesson04_explorer.png"))
            page.screenshot(path=str(ARTIFACTS / "browser_lesson04.png"), full_page=False)
            assert after != before, f"the figure did not change after moving λ from {old_value} to {new_value}"
        except Exception:
            if page is not None:
                page.screenshot(path=str(ARTIFACTS / "browser_lesson04_failure.png"))
            raise
        finally:
            browser.close()
