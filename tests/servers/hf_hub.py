"""A Hugging Face Hub test server: the routes ``HfFileSystem`` reads a dataset through, on 127.0.0.1.

Real HTTP (stdlib ``ThreadingHTTPServer``, ephemeral port), written from what ``huggingface_hub`` sends:

* ``HEAD``/``GET /{datasets/|spaces/}{org}/{repo}/resolve/{revision}/{path}``: small files answer 200 with
  ``ETag`` (the git blob id), ``X-Repo-Commit`` and ``Content-Length``; large (LFS) files answer 302 to
  ``/cdn/{sha256}`` with ``X-Linked-Etag`` and ``X-Linked-Size``, like the Hub's redirect to its CDN;
* ``GET /api/{datasets|spaces|models}/{org}/{repo}/tree/{revision}[/{folder}]?recursive=...``: the JSON
  list of ``{"type", "path", "size", "oid", "lfs"}``, ``page_size`` entries a page, with a
  ``Link: <...>; rel="next"`` header;
* errors as the Hub gives them: ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``,
  ``EntryNotFound``, ``GatedRepo``) and ``X-Error-Message``; a private repository without a valid token
  answers 401 ``RepoNotFound``, a gated one 401 (no token) or 403 (a token without access) ``GatedRepo``.

Every request is recorded (method, path, query, headers) so tests count what a run asked for.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.servers.loopback import LoopbackServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?:(?P<kind>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_TREE = re.compile(
    r"^/api/(?P<kind>datasets|spaces|models)/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<folder>.*))?$"
)
_CDN = re.compile(r"^/cdn/(?P<sha>[0-9a-f]{64})$")


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's content: what the Hub sends as a small file's ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    files: dict[str, bytes] = field(default_factory=dict)
    lfs: set[str] = field(default_factory=set)  # paths served as large files (redirect to the CDN)
    access: str = "public"  # "public", "private" or "gated"
    readers: set[str] = field(default_factory=set)  # tokens that may read a private or gated repository
    revisions: tuple[str, ...] = ("main",)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class HfHub(LoopbackServer):
    """The server and its repositories; use as a context manager or call ``start``/``stop``."""

    def __init__(self, *, page_size: int = 1000) -> None:
        self.page_size = page_size
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[RecordedRequest] = []
        self.truncate: set[str] = set()  # paths whose content is cut short once, mid-body
        self._lock = threading.Lock()
        super().__init__()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def endpoint(self) -> str:
        return self.url

    def add_dataset(self, repo_id: str, files: dict[str, bytes], **options: Any) -> Repo:
        repo = Repo(dict(files), **options)
        self.repos[("dataset", repo_id)] = repo
        return repo

    def requests_to(self, method: str, pattern: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    # --- answers -----------------------------------------------------------------------------------------

    def _repo(self, kind: str | None, repo_id: str, revision: str, token: str | None) -> Repo:
        repo_type = {"datasets": "dataset", "spaces": "space", "models": "model", None: "model"}[kind]
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.access == "private" and token not in repo.readers):
            raise _Refusal(404 if token else 401, "RepoNotFound", "Repository Not Found")
        if repo.access == "gated" and token not in repo.readers:
            raise _Refusal(403 if token else 401, "GatedRepo", f"Access to dataset {repo_id} is restricted")
        if unquote(revision) not in repo.revisions:
            raise _Refusal(404, "RevisionNotFound", f"Invalid rev id: {unquote(revision)}")
        return repo

    def resolve(self, match: re.Match[str], token: str | None) -> tuple[int, dict[str, str], bytes]:
        repo = self._repo(match["kind"], match["repo"], match["rev"], token)
        path = unquote(match["path"])
        if path not in repo.files:
            raise _Refusal(404, "EntryNotFound", f'{path} does not exist on "{match["rev"]}"')
        data = repo.files[path]
        if path in repo.lfs:
            sha = hashlib.sha256(data).hexdigest()
            headers = {"Location": f"{self.endpoint}/cdn/{sha}", "X-Linked-Etag": f'"{sha}"',
                       "X-Linked-Size": str(len(data)), "X-Repo-Commit": COMMIT}  # fmt: skip
            return 302, headers, b""
        return 200, {"ETag": f'"{git_blob_id(data)}"', "X-Repo-Commit": COMMIT}, data

    def cdn(self, sha: str) -> tuple[int, dict[str, str], bytes]:
        for repo in self.repos.values():
            for path, data in repo.files.items():
                if path in repo.lfs and hashlib.sha256(data).hexdigest() == sha:
                    return 200, {"ETag": f'"{sha}"'}, data
        raise _Refusal(404, "", "no such object")

    def tree(
        self, match: re.Match[str], query: dict[str, list[str]], token: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        repo = self._repo(match["kind"], match["repo"], match["rev"], token)
        folder = unquote(match["folder"] or "").strip("/")
        recursive = query.get("recursive", ["false"])[0] == "true"
        prefix = f"{folder}/" if folder else ""
        entries: dict[str, dict[str, Any]] = {}
        for path, data in sorted(repo.files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if "/" in rest and not recursive:
                sub = prefix + rest.split("/", 1)[0]
                entries[sub] = {"type": "directory", "path": sub, "oid": git_blob_id(sub.encode())}
                continue
            if recursive:
                parts = rest.split("/")[:-1]
                for i in range(len(parts)):
                    sub = prefix + "/".join(parts[: i + 1])
                    entries.setdefault(sub, {"type": "directory", "path": sub, "oid": git_blob_id(sub.encode())})
            entry: dict[str, Any] = {"type": "file", "path": path, "size": len(data), "oid": git_blob_id(data)}
            if path in repo.lfs:
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries[path] = entry
        if folder and not entries:
            raise _Refusal(404, "EntryNotFound", f'{folder} does not exist on "{match["rev"]}"')
        rows = list(entries.values())
        start = int(query.get("cursor", ["0"])[0])
        page = rows[start : start + self.page_size]
        headers = {"Content-Type": "application/json"}
        if start + self.page_size < len(rows):
            base = f"{self.endpoint}{match.string}"
            headers["Link"] = f'<{base}?recursive={str(recursive).lower()}&cursor={start + self.page_size}>; rel="next"'
        return 200, headers, json.dumps(page).encode()


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Handler(BaseHTTPRequestHandler):
    state: HfHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        self._answer("GET")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        hub = self.state
        with hub._lock:
            hub.requests.append(RecordedRequest(method, url.path, query, dict(self.headers.items())))
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        try:
            if (match := _RESOLVE.match(url.path)) is not None:
                status, headers, body = hub.resolve(match, token)
            elif (match := _TREE.match(url.path)) is not None and method == "GET":
                status, headers, body = hub.tree(match, query, token)
            elif (match := _CDN.match(url.path)) is not None:
                status, headers, body = hub.cdn(match["sha"])
            else:
                raise _Refusal(404, "", f"no route {url.path}")
        except _Refusal as refusal:
            status, body = refusal.status, json.dumps({"error": refusal.message}).encode()
            headers = {"Content-Type": "application/json", "X-Error-Message": refusal.message}
            if refusal.code:
                headers["X-Error-Code"] = refusal.code
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if method == "GET":
            path = unquote(url.path)
            cut = next((p for p in hub.truncate if path.endswith("/" + p)), None)
            if cut is not None:
                hub.truncate.discard(cut)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)
