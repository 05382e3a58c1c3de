"""The lake on an S3-compatible object store (``[storage] lake = "s3://bucket/prefix"``).

The same files as a local lake (:mod:`sitrep.lake.store`), as objects under the prefix.  Reads go
through `s3fs <https://s3fs.readthedocs.io>`_ (the optional ``s3`` extra), which DuckDB is handed as a
Python file system: nothing is downloaded at run time, as DuckDB's own ``httpfs`` extension would be.

Writes keep the local lake's guarantee: ingest writes its work files in a local folder of the workspace
(``.lake-work/``) and uploads each finished file in one request (a single PUT, or a multipart upload
the store shows only once it is completed), so a reader never sees a half-written object.  The writer
lock is a local file of that folder: the writers of one lake (ingest, compact, retain) must run from
one workspace.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitrep.config import ObjectStore, Workspace
from sitrep.lake.errors import LakeError
from sitrep.lake.store import Entry, Lake, LakePath, ObjectPath, check_magic

EXTRA_HINT = "install the optional 's3' extra (pip install 'cert-sitrep[s3]')"


@dataclass(frozen=True)
class ObjectLake(Lake):
    """A lake at ``url`` on an object store; ``root`` is the local folder of its work files and lock."""

    url: str = ""
    filesystem: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> ObjectLake:
        assert workspace.lake_url is not None
        return cls(workspace.lake_dir, workspace.lake_url, filesystem(workspace.settings.storage.s3, workspace.root))

    @property
    def location(self) -> str:
        return self.url

    @property
    def events_dir(self) -> ObjectPath:
        return ObjectPath(self.url) / "events"

    @property
    def rejects_dir(self) -> ObjectPath:
        return ObjectPath(self.url) / "rejects"

    @property
    def ingests_dir(self) -> ObjectPath:
        return ObjectPath(self.url) / "ingests"

    def create(self) -> None:
        """Make the local work folder; refuse a bucket that cannot be reached."""
        bucket = ObjectPath(self.url).key.split("/", 1)[0]
        try:
            found = self.filesystem.exists(bucket)
        except Exception as exc:  # s3fs and botocore raise many kinds: the store's answer is named
            raise self._error("cannot reach the bucket", exc) from None
        if not found:
            raise LakeError(f"{self.url}: the bucket {bucket!r} does not exist on the object store (create it first)")
        for folder in (self.root, self.tmp_dir):
            if folder.exists() and not folder.is_dir():
                raise LakeError(f"{folder} is a file, not the lake's local work folder: move it away and run again")
            folder.mkdir(parents=True, exist_ok=True)

    def list_folder(self, folder: LakePath) -> list[Entry]:
        try:
            listed = self.filesystem.ls(ObjectPath(str(folder)).key, detail=True, refresh=True)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise self._error(f"cannot list {folder}", exc) from None
        entries = [
            Entry(ObjectPath(f"s3://{item['name']}"), int(item["size"]), str(item.get("ETag") or item["LastModified"]))
            for item in listed
            if item.get("type") == "file"
        ]
        return sorted(entries, key=lambda e: e.path.name)

    def commit_state(self) -> str:
        """A digest of the listing of ``events/`` (names, sizes and ETags): one LIST request."""
        digest = hashlib.blake2b(digest_size=16)
        for entry in self.list_folder(self.events_dir):
            digest.update(f"{entry.path.name}\0{entry.size}\0{entry.version}\n".encode())
        return digest.hexdigest()

    def _check_parquet(self, entry: Entry) -> None:
        if not entry.path.name.endswith(".parquet"):
            return
        key = ObjectPath(str(entry.path)).key
        try:
            head = self.filesystem.cat_file(key, start=0, end=4)
            tail = self.filesystem.cat_file(key, start=max(entry.size - 4, 0), end=entry.size)
        except Exception as exc:
            raise self._error(f"cannot read {entry.path}", exc) from None
        check_magic(entry.path, entry.size, head, tail)

    def read_text(self, path: LakePath) -> str:
        try:
            return bytes(self.filesystem.cat_file(ObjectPath(str(path)).key)).decode("utf-8")
        except Exception as exc:
            raise self._error(f"cannot read {path}", exc) from None

    def commit(self, tmp: Path, final: LakePath) -> None:
        """Upload a finished work file: the object appears whole when its upload completes."""
        try:
            self.filesystem.put_file(str(tmp), ObjectPath(str(final)).key)
        except Exception as exc:
            raise self._error(f"cannot upload {final}", exc) from None
        tmp.unlink(missing_ok=True)

    def write_json(self, data: dict[str, Any], final: LakePath, tmp_dir: Path) -> None:
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        try:
            self.filesystem.pipe_file(ObjectPath(str(final)).key, body)
        except Exception as exc:
            raise self._error(f"cannot upload {final}", exc) from None

    def remove(self, path: LakePath) -> None:
        try:
            self.filesystem.rm_file(ObjectPath(str(path)).key)
        except FileNotFoundError:
            pass
        except Exception as exc:
            raise self._error(f"cannot remove {path}", exc) from None

    def _error(self, what: str, exc: Exception) -> LakeError:
        reason = str(exc).strip() or type(exc).__name__
        return LakeError(f"{self.url}: {what} on the object store ({reason}); see [storage.s3] in sitrep.toml")


def filesystem(store: ObjectStore, root: Path) -> Any:
    """The s3fs file system ``[storage.s3]`` describes; what it leaves empty, botocore takes from the
    standard AWS variables and files.  Listings are not cached: other processes commit files."""
    try:
        import s3fs
    except ImportError:
        raise LakeError(f"the lake is on an object store (s3://), which needs s3fs: {EXTRA_HINT}") from None
    options: dict[str, Any] = {"use_listings_cache": False}
    if store.endpoint_url:
        options["endpoint_url"] = store.endpoint_url
    if store.region:
        options["client_kwargs"] = {"region_name": store.region}
    if store.access_key_id:
        options["key"] = store.access_key_id
        options["secret"] = secret_access_key(store, root)
    return s3fs.S3FileSystem(**options)


def secret_access_key(store: ObjectStore, root: Path) -> str:
    """The secret key of ``access_key_id``: from the file ``secret_access_key_file`` (inside the
    workspace when relative), else from the variable ``secret_access_key_env``."""
    if store.secret_access_key_file:
        path = root / Path(store.secret_access_key_file).expanduser()
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise LakeError(
                f"[storage.s3] secret_access_key_file {path}: cannot be read ({exc.strerror or exc})"
            ) from None
        if not secret:
            raise LakeError(f"[storage.s3] secret_access_key_file {path} is empty")
        return secret
    secret = os.environ.get(store.secret_access_key_env, "")
    if not secret:
        raise LakeError(
            f"[storage.s3] access_key_id is set but the variable {store.secret_access_key_env} (secret_access_key_env) "
            "is empty: set it, or name a file with secret_access_key_file"
        )
    return secret
