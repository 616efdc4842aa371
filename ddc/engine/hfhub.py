"""Hugging Face seeds (``seed_type: hf``) for ``ddc run``: the Hub's files, downloaded into the local cache.

The official engine reads ``hf://<path>`` through ``huggingface_hub``'s ``HfFileSystem``; ddc speaks the
same HTTP routes itself (httpx, imported here only) rather than depend on that library:

* a file's metadata: ``HEAD {endpoint}/datasets/{org}/{repo}/resolve/{revision}/{path}`` -- ``X-Linked-Etag``
  (large files, answered with a redirect to a CDN) or ``ETag``, ``X-Linked-Size`` or ``Content-Length``,
  ``X-Repo-Commit``;
* its content: ``GET`` on the same URL, following redirects (httpx drops the token on a redirect to
  another host);
* a glob: ``GET {endpoint}/api/datasets/{org}/{repo}/tree/{revision}/{folder}?recursive=...``, a JSON list
  of ``{"type", "path", "size", "oid", "lfs": {"oid", "size"}}`` paged by ``Link: <...>; rel="next"``.
  ``*`` and ``?`` stay within one folder, ``**`` crosses folders (fsspec's glob).

Paths read ``datasets/<org>/<repo>[@revision]/<file or glob>`` (``spaces/`` and model repositories too);
the revision defaults to ``main``. The token (``Authorization: Bearer``) is the source's ``token`` through
the secret resolver, else ``$HF_TOKEN``; it never appears in a message.

The cache keeps one copy of each file at ``<cache>/hf/<host>/<repo type>/<org>/<repo>/<revision>/files/<path>``
with the content's identity (the ETag -- the git blob id, or the sha256 of a large file, which is what the
tree listing calls ``oid``/``lfs.oid``; else ``X-Repo-Commit``; else revision + path + size) beside it
under ``keys/``. A later run asks the Hub for the identity only (one HEAD, or one listing for a glob) and
downloads nothing while it is unchanged. Downloads stream into a temporary file renamed into place, so a
failed run leaves no half file. Files keep their paths, so their name order is the repository's.
When the Hub cannot be reached, the files an earlier run resolved the same path to (``resolved/``) are
used, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from ddc.errors import RunError, SourceSpan
from ddc.fsutil import atomic_writer, cache_root, write_atomic
from ddc.spec.document import ENV_VAR

if TYPE_CHECKING:
    import httpx

    from ddc.spec.load import LoadedSpec

DEFAULT_REVISION = "main"
TIMEOUT_SECONDS = 30.0
_REPO_TYPES = {"datasets": "dataset", "spaces": "space", "models": "model"}
_MAGIC = re.compile(r"[*?\[]")
_MAX_LISTED = 8
_CHUNK = 1 << 20
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class HubUnreachable(RunError):
    """The Hub could not be reached at all (no connection, or no answer in time)."""


@dataclass(frozen=True)
class HubPath:
    """``datasets/<org>/<repo>[@revision]/<file or glob>``, split."""

    repo_type: str  # "dataset", "space" or "model"
    repo_id: str  # "org/repo"
    revision: str
    pattern: str  # the file or glob inside the repository

    @property
    def label(self) -> str:
        """The path as written back to a user (without the revision when it is the default)."""
        kind = "" if self.repo_type == "model" else f"{self.repo_type}s/"
        at = "" if self.revision == DEFAULT_REVISION else f"@{self.revision}"
        return f"{kind}{self.repo_id}{at}/{self.pattern}"

    @property
    def is_glob(self) -> bool:
        return _MAGIC.search(self.pattern) is not None


def parse_hub_path(path: str) -> HubPath:
    """Split an ``hf`` seed path; raises ValueError with what a path must look like."""
    text = path.removeprefix("hf://").strip("/")
    parts = text.split("/")
    repo_type = "model"
    if parts and parts[0] in _REPO_TYPES:
        repo_type = _REPO_TYPES[parts[0]]
        parts = parts[1:]
    if len(parts) < 3 or not all(parts[:2]) or not "/".join(parts[2:]):
        raise ValueError(f"Hugging Face seed path {path!r} must look like datasets/<org>/<repo>/<file or glob>")
    org, repo = parts[0], parts[1]
    revision = DEFAULT_REVISION
    if "@" in repo:
        repo, _, revision = repo.partition("@")
        revision = unquote(revision)
        if not repo or not revision:
            raise ValueError(f"Hugging Face seed path {path!r}: write <repo>@<revision>")
    return HubPath(repo_type, f"{org}/{repo}", revision, "/".join(parts[2:]))


def glob_regex(pattern: str) -> re.Pattern[str]:
    """fsspec glob semantics: ``*``/``?``/``[...]`` within one folder, ``**`` across folders."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class HubFile:
    """One file of the repository: its path there, its content identity, and its size when known."""

    path: str
    key: str
    size: int | None


@dataclass(frozen=True)
class HubSeed:
    """Everything needed to reach one ``hf`` seed: where, which files, and the resolved token."""

    where: HubPath
    endpoint: str
    token: str | None
    span: SourceSpan | None = None

    @classmethod
    def from_source(cls, source: Any, token: str | None, span: SourceSpan | None = None) -> HubSeed:
        from ddc.redaction import register

        register(token)  # never printed or written (ddc.redaction)
        try:
            where = parse_hub_path(source.path)
        except ValueError as exc:
            raise RunError(f"seed data: {exc}", span=span) from exc
        return cls(where, str(source.endpoint).rstrip("/"), token, span)

    def label_of(self, path: str) -> str:
        """One file of the repository as written back to a user: ``hf://<repo>@<revision>/<path>``."""
        kind = "" if self.where.repo_type == "model" else f"{self.where.repo_type}s/"
        return f"hf://{kind}{self.where.repo_id}@{self.where.revision}/{path}"

    # --- routes ----------------------------------------------------------------------------------------

    def file_url(self, path: str) -> str:
        kind = "" if self.where.repo_type == "model" else f"/{self.where.repo_type}s"
        revision = quote(self.where.revision, safe="")
        return f"{self.endpoint}{kind}/{self.where.repo_id}/resolve/{revision}/{quote(path)}"

    def tree_url(self, folder: str) -> str:
        revision = quote(self.where.revision, safe="")
        tail = "/" + quote(folder, safe="") if folder else ""
        return f"{self.endpoint}/api/{self.where.repo_type}s/{self.where.repo_id}/tree/{revision}{tail}"

    def client(self) -> httpx.Client:
        import httpx

        headers = {"User-Agent": "ddc"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.Client(headers=headers, timeout=TIMEOUT_SECONDS)

    # --- errors ----------------------------------------------------------------------------------------

    def error(self, message: str, hint: str = "") -> RunError:
        if self.token:
            message, hint = message.replace(self.token, "***"), hint.replace(self.token, "***")
        return RunError(f"seed data: {message}", span=self.span, hint=hint)

    def _transport_error(self, exc: Exception) -> RunError:
        import httpx

        hint = (
            "check the network and seed_config.source.endpoint; or run the spec with `ddc submit`, or download "
            "the files and use seed_type: local"
        )
        if isinstance(exc, (httpx.ConnectError, httpx.TimeoutException)):
            reason = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else f"is unreachable: {exc}"
            return HubUnreachable(f"seed data: the Hugging Face Hub at {self.endpoint} {reason}", span=self.span,
                                  hint=hint)  # fmt: skip
        return self.error(f"the Hugging Face Hub at {self.endpoint} failed: {exc}", "try again")

    def _status_error(self, response: httpx.Response, what: str) -> RunError:
        """One line per Hub answer: ``X-Error-Code`` says which (RepoNotFound, RevisionNotFound,
        EntryNotFound, GatedRepo); without a token the Hub answers 401 for private repositories."""
        status = response.status_code
        code = response.headers.get("X-Error-Code", "")
        detail = response.headers.get("X-Error-Message", "")
        repo = f"{self.where.repo_type}s/{self.where.repo_id}"
        if status in (401, 403) and not self.token:
            kind = "gated" if code == "GatedRepo" else "private or gated (or does not exist)"
            return self.error(
                f"{repo} is {kind}: the Hugging Face Hub answered HTTP {status} without a token",
                "set HF_TOKEN, or seed_config.source.token to the name of an environment variable holding a token",
            )
        if status in (401, 403):
            gated = " (a gated dataset: accept its terms on the Hub first)" if code == "GatedRepo" else ""
            return self.error(
                f"the Hugging Face Hub refused the token for {repo} (HTTP {status}){gated}",
                "check that the token (HF_TOKEN or seed_config.source.token) can read this dataset and accept "
                "its terms if it is gated",
            )
        if code == "RepoNotFound" or (status == 404 and not what):
            return self.error(f"the Hugging Face Hub has no {self.where.repo_type} repository {repo!r}",
                               "check seed_config.source.path")  # fmt: skip
        if code == "RevisionNotFound":
            return self.error(f"{repo} has no revision {self.where.revision!r}", "check the @revision in the path")
        if status == 404:
            return self.error(f"{repo} has no {what} (revision {self.where.revision})", "check seed_config.source.path")
        suffix = f": {detail}" if detail else ""
        hint = "the Hub failed; try again later" if status >= 500 or status == 429 else ""
        return self.error(f"the Hugging Face Hub answered HTTP {status} for {what or repo}{suffix}", hint)

    # --- metadata -----------------------------------------------------------------------------------------

    def head(self, client: httpx.Client, path: str) -> HubFile:
        """A file's identity from ``HEAD .../resolve/...``, following only redirects within the Hub."""
        import httpx

        url = self.file_url(path)
        try:
            for _ in range(5):
                response = client.head(url, headers={"Accept-Encoding": "identity"}, follow_redirects=False)
                location = response.headers.get("Location", "")
                if response.is_redirect and location and not urlsplit(location).netloc:
                    url = str(response.url.join(location))
                    continue
                break
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if response.status_code >= 400:
            raise self._status_error(response, f"file {path!r}")
        headers = response.headers
        etag = headers.get("X-Linked-Etag") or headers.get("ETag")
        size_text = headers.get("X-Linked-Size") or (None if response.is_redirect else headers.get("Content-Length"))
        size = int(size_text) if size_text and size_text.isdigit() else None
        etag = etag.removeprefix("W/").strip('"') if etag else None
        commit = headers.get("X-Repo-Commit")
        return HubFile(path, _cache_key(etag or (f"commit-{commit}" if commit else None), self.where, path, size), size)

    def list_files(self, client: httpx.Client) -> list[HubFile]:
        """The repository files the glob matches, in path order (the tree API, every page)."""
        import httpx

        pattern = self.where.pattern.lstrip("/")
        first_magic = _MAGIC.search(pattern)
        head = pattern[: first_magic.start()] if first_magic else pattern
        folder = head.rsplit("/", 1)[0] if "/" in head else ""
        rest = pattern[len(folder) :].lstrip("/")
        recursive = "/" in rest or "**" in rest
        url: str | None = self.tree_url(folder)
        params: dict[str, str] | None = {"recursive": "true" if recursive else "false", "expand": "false"}
        entries: list[dict[str, Any]] = []
        try:
            while url is not None:
                response = client.get(url, params=params)
                if response.status_code >= 400:
                    raise self._status_error(response, f"folder {folder!r}" if folder else "")
                page = response.json()
                if not isinstance(page, list):
                    raise self.error(f"the Hugging Face Hub at {self.endpoint} sent a listing that is not a list")
                entries.extend(e for e in page if isinstance(e, dict))
                url, params = response.links.get("next", {}).get("url"), None
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        except ValueError as exc:
            raise self.error(f"the Hugging Face Hub at {self.endpoint} sent a listing that is not JSON") from exc
        matcher = glob_regex(pattern)
        files = []
        for entry in entries:
            name = str(entry.get("path", "")).lstrip("/")
            if entry.get("type") != "file" or not matcher.match(name):
                continue
            lfs = entry.get("lfs") if isinstance(entry.get("lfs"), dict) else None
            size = (lfs or {}).get("size", entry.get("size"))
            size = size if isinstance(size, int) else None
            identity = (lfs or {}).get("oid") or entry.get("oid")
            files.append(HubFile(name, _cache_key(identity, self.where, name, size), size))
        if not files:
            names = sorted(str(e.get("path", "")) for e in entries if e.get("type") == "file")
            shown = ", ".join(names[:_MAX_LISTED]) + (" ..." if len(names) > _MAX_LISTED else "")
            raise self.error(
                f"no file in {self.where.repo_type}s/{self.where.repo_id} matches {pattern!r}",
                f"files under {folder or 'the repository root'}: {shown or 'none'}",
            )
        return sorted(files, key=lambda f: f.path)

    def resolve(self, client: httpx.Client) -> list[HubFile]:
        """The files this seed names, with their identities (nothing is downloaded)."""
        if self.where.is_glob:
            return self.list_files(client)
        return [self.head(client, self.where.pattern.lstrip("/"))]

    # --- content ----------------------------------------------------------------------------------------

    def cache_dir(self, root: Path | None = None) -> Path:
        host = (urlsplit(self.endpoint).netloc or "hub").replace(":", "_")
        org, repo = self.where.repo_id.split("/", 1)
        revision = quote(self.where.revision, safe="")
        return (root or cache_root()) / "hf" / host / f"{self.where.repo_type}s" / org / repo / revision

    def download(self, client: httpx.Client, file: HubFile, target: Path) -> None:
        """Stream one file into ``target`` (atomically); a short or failed transfer leaves nothing."""
        import httpx

        received = 0
        try:
            with client.stream("GET", self.file_url(file.path), follow_redirects=True) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._status_error(response, f"file {file.path!r}")
                with atomic_writer(target) as handle:
                    for chunk in response.iter_bytes(_CHUNK):
                        handle.write(chunk)
                        received += len(chunk)
                    if file.size is not None and received != file.size:
                        raise self.error(
                            f"the download of {file.path!r} from {self.endpoint} stopped at {received} of "
                            f"{file.size} bytes",
                            "try again",
                        )
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc


def _cache_key(identity: object, where: HubPath, path: str, size: int | None) -> str:
    """The content identity as a file-name-safe string; without one, revision + path + size."""
    text = str(identity) if identity else f"{where.revision}\0{path}\0{size}"
    if identity and _SAFE_KEY.match(text):
        return text
    return "sha256-" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def hub_seed(loaded: LoadedSpec) -> HubSeed:
    """The spec's ``hf`` seed, with its token resolved and its spec position for messages."""
    source = loaded.spec.seed_config.source  # type: ignore[union-attr]
    return HubSeed.from_source(source, hub_token(loaded), loaded.source.map.span(("seed_config", "source", "path")))


def hub_token(loaded: LoadedSpec) -> str | None:
    """``token`` through the secret resolver (environment variable, then the Secrets API when NeMo access
    is configured, then the value as written), else ``$HF_TOKEN`` as ``huggingface_hub`` does."""
    from ddc.nemo.resources import NemoAccess, resolve_secret

    reference = getattr(loaded.spec.seed_config.source, "token", None)  # type: ignore[union-attr]
    if not reference:
        return os.environ.get("HF_TOKEN") or None
    if reference in os.environ:
        return os.environ[reference]
    token_span = loaded.source.map.span(("seed_config", "source", "token"))
    if ENV_VAR.match(reference) and reference.upper() == reference and "_" in reference:
        raise RunError(
            f"seed data: the Hugging Face token names the environment variable {reference}, which is not set",
            span=token_span,
            hint=f"export {reference}, or remove token for a public dataset",
        )
    # a plaintext token (hf_...) is never sent to NeMo Services as a secret name
    access = None if reference.startswith("hf_") else NemoAccess.for_spec(loaded.spec)
    if "/" in reference and access is None:
        raise RunError(
            f"seed data: the Hugging Face token {reference!r} is a Secrets API reference and NeMo Services "
            "is not configured",
            span=token_span,
            hint="set NMP_BASE_URL (and NMP_ACCESS_TOKEN), or set token to the name of an environment "
            "variable such as HF_TOKEN",
        )
    return resolve_secret(reference, access)


def fetch_hf_seed(
    seed: HubSeed, *, root: Path | None = None, warn: Callable[[str], None] | None = None
) -> tuple[list[Path], int]:
    """Local copies of the seed's files (in repository path order) and how many were downloaded now.

    When the Hub cannot be reached, the files an earlier run resolved the same path to are used (as
    ``huggingface_hub`` falls back to its cache), with a warning."""
    base = seed.cache_dir(root)
    resolved = base / "resolved" / (hashlib.sha256(seed.where.pattern.encode("utf-8")).hexdigest()[:24] + ".json")
    downloaded = 0
    with seed.client() as client:
        try:
            files = seed.resolve(client)
        except HubUnreachable as exc:
            earlier = _earlier_resolution(base, resolved)
            if earlier is None:
                raise
            if warn is not None:
                warn(f"{exc.message}; using the copy of {seed.where.label} an earlier run downloaded")
            return earlier, 0
        for file in files:
            if ".." in Path(file.path).parts:
                raise seed.error(f"the Hub listed an unsafe path {file.path!r}")
            target, key_file = base / "files" / file.path, base / "keys" / file.path
            if not _is_cached(target, key_file, file):
                key_file.unlink(missing_ok=True)  # the key never vouches for a file being replaced
                seed.download(client, file, target)
                write_atomic(key_file, file.key)
                downloaded += 1
    names = [f.path for f in files]
    if _read_json_list(resolved) != names:
        write_atomic(resolved, json.dumps(names))
    return [base / "files" / name for name in names], downloaded


def cached_key(seed: HubSeed, file: Path, *, root: Path | None = None) -> tuple[str, str | None]:
    """A file ``fetch_hf_seed`` returned: its path in the repository and the content identity (the ETag)
    the cache holds for it (None when the cache has none)."""
    base = seed.cache_dir(root)
    name = file.relative_to(base / "files").as_posix()
    try:
        return name, (base / "keys" / name).read_text(encoding="utf-8")
    except OSError:
        return name, None


def _read_json_list(path: Path) -> list[str] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def _earlier_resolution(base: Path, resolved: Path) -> list[Path] | None:
    names = _read_json_list(resolved)
    if not names:
        return None
    paths = [base / "files" / name for name in names]
    return paths if all(p.is_file() for p in paths) else None


def _is_cached(target: Path, key_file: Path, file: HubFile) -> bool:
    try:
        same = key_file.read_text(encoding="utf-8") == file.key
        return same and (file.size is None or target.stat().st_size == file.size)
    except OSError:
        return False


def check_hf_seed(seed: HubSeed) -> list[HubFile]:
    """The files the seed names, as the Hub lists them now; raises RunError when there are none."""
    with seed.client() as client:
        return seed.resolve(client)
