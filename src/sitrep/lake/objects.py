"""The connection to the S3-compatible object store a lake may live on (``[storage] lake =
"s3://bucket/prefix"``, :class:`sitrep.lake.store.ObjectLake`).

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

import functools
import os
from pathlib import Path
from typing import Any

from sitrep.config import ObjectStore
from sitrep.lake.errors import LakeError

EXTRA_HINT = "install the optional 's3' extra (pip install 'cert-sitrep[s3]')"


def filesystem(store: ObjectStore, root: Path) -> Any:
    """The s3fs file system ``[storage.s3]`` describes; what it leaves empty, botocore takes from the
    standard AWS variables and files.  Listings are not cached: other processes commit files."""
    try:
        import s3fs  # noqa: F401 (the optional extra: checked here, used by _file_system)
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
    return _file_system()(**options)


# What one object's HEAD answered, by object, up to this many objects per file system.
_KNOWN_OBJECTS = 100_000


@functools.cache
def _file_system() -> type:
    """s3fs's file system, remembering what a HEAD request told of each object.  DuckDB asks for an
    object's size and time every time it opens it (about 80 HEAD requests per events file in one
    ``sitrep metrics``), and the lake writes each object once under a name of its own and never
    rewrites it (compaction and retention only remove), so the answer stays true."""
    import s3fs

    class LakeFileSystem(s3fs.S3FileSystem):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._known: dict[str, dict[str, Any]] = {}

        async def _info(self, path: str, *args: Any, refresh: bool = False, **kwargs: Any) -> dict[str, Any]:
            name = self._strip_protocol(path)
            if not refresh and (known := self._known.get(name)) is not None:
                return known
            found = await super()._info(path, *args, refresh=refresh, **kwargs)
            if found.get("type") == "file":
                if len(self._known) >= _KNOWN_OBJECTS:
                    self._known.clear()
                self._known[name] = found
            return found

        async def _rm_file(self, path: str, **kwargs: Any) -> None:
            self._known.pop(self._strip_protocol(path), None)
            await super()._rm_file(path, **kwargs)

    return LakeFileSystem


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
