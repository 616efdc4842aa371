"""The real NeMo Platform (nemo-platform 0.6.0) as a local process for the tests.

``NemoPlatform.start`` writes a config derived from the package's bundled ``local.yaml`` (no container
runtime, the subprocess job executor only, no model-deployment backends, storage and job directories
under a temporary folder), starts ``nemo services start`` on a free loopback port with ``HOME`` and
``XDG_*`` in that folder, and waits for ``/health/ready``. Test state is seeded with the real ``nemo``
CLI (filesets, uploads, secrets, inference providers) and, for projects, the entities API; see
/work/shared/reference/nemo-platform-local.md for where each fact comes from.

The platform lives in its own virtual environment (``tests/nemo_platform/install.sh``), never in the
test interpreter: nothing of it is imported here, it is only run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

VERSION = "0.6.0"
DEFAULT_VENV = Path.home() / ".cache" / "ddc-ci" / f"nemo-platform-{VERSION}"
MARKER = ".ddc-install-complete"
SERVICES = "auth,entities,files,secrets,jobs,models,inference-gateway,data-designer"
CONTROLLERS = "jobs,entities"
READY_TIMEOUT = float(os.environ.get("DDC_NEMO_READY_TIMEOUT", "300"))
CLI_TIMEOUT = 120.0
#: start commands still running when their worker left the services to the others (``NemoPlatform.release``)
_LAUNCHERS_IN_USE: list[subprocess.Popen[bytes]] = []

#: Rewrites the bundled config (YAML in, YAML out); run with the platform's own Python, which has PyYAML.
_CONFIGURE = r"""
import importlib.resources, sys, yaml
work, base_url = sys.argv[1], sys.argv[2]
config = yaml.safe_load((importlib.resources.files("nmp.platform_runner") / "config/local.yaml").read_text())
config.setdefault("platform", {})["runtime"] = "none"
config["platform"]["base_url"] = base_url
jobs = config.get("jobs") or {}
executors = jobs.get("executors")
if isinstance(executors, list):
    kept = [e for e in executors if isinstance(e, dict) and e.get("backend") == "subprocess"]
    for e in kept:
        for key in ("config", "settings"):
            if isinstance(e.get(key), dict) and "working_directory" in e[key]:
                e[key]["working_directory"] = work + "/jobs"
        if "working_directory" in e:
            e["working_directory"] = work + "/jobs"
    jobs["executors"] = kept
elif isinstance(executors, dict):
    jobs["executors"] = {k: v for k, v in executors.items() if "subprocess" in k}
    for v in jobs["executors"].values():
        if isinstance(v, dict):
            v["working_directory"] = work + "/jobs"
defaults = jobs.get("executor_defaults")
if isinstance(defaults, dict):
    defaults.pop("docker", None)
    if isinstance(defaults.get("subprocess"), dict):
        defaults["subprocess"]["working_directory"] = work + "/jobs"
models = config.get("models") or {}
if isinstance(models.get("controller"), dict):
    models["controller"].pop("backends", None)
config.pop("deployments", None)
files = config.get("files") or {}
if isinstance(files.get("default_storage_config"), dict):
    files["default_storage_config"]["path"] = work + "/storage"
print(yaml.safe_dump(config, sort_keys=False))
"""


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_FIELD = re.compile(r"(\w+)=(\S+)")


class PlatformUnavailable(Exception):
    """The platform is not installed (no venv with a complete install)."""


def platform_venv() -> Path:
    return Path(os.environ.get("DDC_NEMO_VENV") or DEFAULT_VENV)


def installed_venv() -> Path:
    """The venv of a complete install, or PlatformUnavailable saying how to make one."""
    venv = platform_venv()
    if not (venv / MARKER).is_file() or not (venv / "bin" / "nemo").is_file():
        raise PlatformUnavailable(
            f"nemo-platform {VERSION} is not installed in {venv}; run tests/nemo_platform/install.sh "
            "(needs Python 3.12, about 3 minutes and 2.5 GB)"
        )
    return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Timings:
    start_seconds: float = 0.0
    cli_calls: int = 0
    cli_seconds: float = 0.0


@dataclass
class NemoPlatform:
    """One running platform instance; ``base_url`` is what ddc is pointed at."""

    venv: Path
    root: Path  # temporary folder: HOME, XDG_*, storage, job working directories, config
    port: int = field(default_factory=free_port)
    instance: str = field(default_factory=lambda: f"ddc-test-{uuid.uuid4().hex[:8]}")
    workspace: str = "default"
    timings: Timings = field(default_factory=Timings)
    _process: subprocess.Popen[bytes] | None = None  # `nemo services start`, of the worker that started them

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.root / "platform.yaml"

    @property
    def instance_path(self) -> Path:
        """The instance record ``nemo services start`` writes (its ``pid`` is the detached server)."""
        return self.root / "state" / "nmp" / "instances" / self.instance / "instance.json"

    @property
    def log_path(self) -> Path:
        """The services log: one ``Request completed ... method= path= status_code=`` line per request."""
        return self.root / "state" / "nmp" / "instances" / self.instance / "services.log"

    def env(self) -> dict[str, str]:
        """The environment of the platform and of its CLI: a private HOME, no telemetry, no NMP_BASE_URL."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NMP_", "NEMO_", "XDG_"))}
        env.update(
            HOME=str(self.root / "home"),
            XDG_STATE_HOME=str(self.root / "state"),
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            XDG_CACHE_HOME=str(self.root / "cache"),
            NEMO_TELEMETRY_ENABLED="false",
            HF_HUB_OFFLINE="1",
            PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.pop("VIRTUAL_ENV", None)
        env.pop("PYTHONPATH", None)
        return env

    # --- lifecycle ---------------------------------------------------------------------------------------

    def write_config(self) -> Path:
        for sub in ("home", "state", "data", "config", "cache", "storage", "jobs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        text = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", _CONFIGURE, str(self.root), self.base_url],
            env=self.env(), check=True, capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
        self.config_path.write_text(text, encoding="utf-8")
        return self.config_path

    def start(self, timeout: float = READY_TIMEOUT) -> NemoPlatform:
        self.write_config()
        began = time.monotonic()
        out = (self.root / "start.out").open("wb")
        self._process = subprocess.Popen(
            [str(self.venv / "bin" / "nemo"), "services", "start", "--services", SERVICES,
             "--controllers", CONTROLLERS, "--config", str(self.config_path), "--host", "127.0.0.1",
             "--port", str(self.port), "--instance", self.instance],
            env=self.env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        out.close()
        self._wait_ready(began + timeout)
        self.timings.start_seconds = time.monotonic() - began
        return self

    def _wait_ready(self, deadline: float) -> None:
        import httpx

        last = ""
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{self.base_url}/health/ready", timeout=2.0)
                if response.status_code == 200 and response.json().get("status") == "ready":
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except (httpx.HTTPError, ValueError) as exc:
                last = str(exc)
            # `nemo services start` detaches the server and gives up waiting after 60 s while the server
            # goes on starting (a loaded machine takes longer), so only the readiness route decides.
            time.sleep(0.5)
        tail = self.diagnostics()
        self.stop()
        raise RuntimeError(f"NeMo Platform at {self.base_url} did not become ready ({last})\n{tail}")

    def diagnostics(self, lines: int = 40) -> str:
        """The end of the start-up output and of the services log, for failure messages."""
        parts = []
        for path in (self.root / "start.out", self.log_path):
            if path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(parts)

    def release(self) -> None:
        """Leave the services running for the other workers that still use them. The start command has
        usually exited by now: it is reaped here, or else its handle is kept to the interpreter's exit
        (a ``Popen`` collected unreaped warns, and pytest would pin the warning on whichever test ran).
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _LAUNCHERS_IN_USE.append(process)

    def stop(self) -> None:
        """``nemo services stop``; then the start command's process group, should it still be there."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                [str(self.venv / "bin" / "nemo"), "services", "stop", "--instance", self.instance],
                env=self.env(), capture_output=True, timeout=60, check=False,
            )  # fmt: skip
        with contextlib.suppress(OSError, ValueError, KeyError, ProcessLookupError):  # the detached server
            server = json.loads(self.instance_path.read_text(encoding="utf-8"))["pid"]
            os.kill(int(server), signal.SIGKILL)
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    # --- seeding with the real CLI -------------------------------------------------------------------

    def nemo(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``nemo --base-url URL ARGS...`` with the platform's environment."""
        began = time.monotonic()
        result = subprocess.run(
            [str(self.venv / "bin" / "nemo"), "--base-url", self.base_url, *args],
            env=self.env(), capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False,
        )  # fmt: skip
        self.timings.cli_calls += 1
        self.timings.cli_seconds += time.monotonic() - began
        if check and result.returncode != 0:
            raise RuntimeError(f"nemo {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def create_fileset(self, name: str) -> None:
        self.nemo("files", "filesets", "create", name, "--workspace", self.workspace, "--purpose", "dataset",
                  "--exist-ok")  # fmt: skip

    def upload(self, local: Path, fileset: str, remote: str | None = None) -> None:
        """Upload ``local`` into ``fileset`` (created if missing) as ``remote`` (default: its name)."""
        self.create_fileset(fileset)
        folder, _, name = (remote or local.name).rpartition("/")
        source = local
        if name != local.name:  # the CLI keeps the file's own name: upload a copy named as asked
            source = self.root / "uploads" / uuid.uuid4().hex / name
            source.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, source)
        where = ("--remote-path", f"{folder}/") if folder else ()
        self.nemo("files", "upload", str(source), fileset, "--workspace", self.workspace, *where)

    def create_secret(self, name: str, value: str) -> None:
        self.nemo("secrets", "create", name, "--workspace", self.workspace, "--value", value)

    def create_provider(self, name: str, host_url: str, api_key_secret: str) -> None:
        """An Inference Gateway provider routing to ``host_url`` (an OpenAI-compatible test server)."""
        self.nemo("inference", "providers", "create", name, "--workspace", self.workspace, "--host-url", host_url,
                  "--api-key-secret-name", api_key_secret)  # fmt: skip

    def create_project(self, name: str) -> dict[str, Any]:
        import httpx

        response = httpx.post(
            f"{self.base_url}/apis/entities/v2/workspaces/{self.workspace}/projects", json={"name": name}, timeout=30
        )
        response.raise_for_status()
        return dict(response.json())

    def get(self, path: str) -> httpx.Response:
        import httpx

        return httpx.get(f"{self.base_url}{path}", timeout=30)

    def fileset_exists(self, name: str) -> bool:
        return self.get(f"/apis/files/v2/workspaces/{self.workspace}/filesets/{name}").status_code == 200

    def requests_since(self, offset: int = 0) -> list[str]:
        """``METHOD PATH STATUS`` of every request the services log recorded after byte ``offset`` (see
        ``log_size``), colour codes removed."""
        if not self.log_path.is_file():
            return []
        with self.log_path.open("rb") as handle:
            handle.seek(offset)
            text = _ANSI.sub("", handle.read().decode("utf-8", errors="replace"))
        out = []
        for line in text.splitlines():
            if "Request completed" in line:
                fields = dict(_FIELD.findall(line))
                out.append(f"{fields.get('method')} {fields.get('path')} {fields.get('status_code')}")
        return out

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.is_file() else 0

    def unique(self, prefix: str) -> str:
        """A name no other test of this session uses (the platform is shared by the whole run)."""
        return f"{prefix}-{uuid.uuid4().hex[:8]}"


def describe(timings: Timings) -> str:
    return json.dumps({"start_seconds": round(timings.start_seconds, 1), "cli_calls": timings.cli_calls,
                       "cli_seconds": round(timings.cli_seconds, 1)})  # fmt: skip
