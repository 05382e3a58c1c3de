"""The pages of long jobs: uploading a feed file (an ingest job), rendering a week (a render job),
a job's page with its progress bar (an htmx fragment polled every second until the job ends) and
the list of recent jobs.

The jobs run on the app's :class:`~sitrep.jobs.runner.JobRunner`; these pages only start them and
read their records, so any server process shows any job.
"""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from sitrep.accounts.roles import Action
from sitrep.feeds import all_feeds, generic_csv
from sitrep.jobs.model import IngestRequest, Job, RenderRequest
from sitrep.jobs.store import get_job, recent_jobs
from sitrep.jobs.uploads import discard_upload, new_upload_folder
from sitrep.web.auth import needs, streams_its_body, visitor
from sitrep.web.errors import BadRequest, NotFound
from sitrep.web.i18n import text
from sitrep.web.render import page
from sitrep.web.upload import UploadRefused, receive_upload
from sitrep.weeks import Week

router = APIRouter()
FILE_FIELD = "file"
RECENT = 50
MB = 1 << 20


def _formats(request: Request) -> list[str]:
    """The formats an upload may name: all but generic-csv, which needs a mapping file (CLI only)."""
    workspace = request.app.state.workspace
    return [f.name for f in all_feeds(workspace.shadowserver_schema) if f.name != generic_csv.NAME]


def _upload_page(request: Request, *, status: int = 200, error: str | None = None) -> Response:
    return page(
        request,
        "feeds_upload.html",
        status=status,
        formats=_formats(request),
        max_mb=request.app.state.workspace.settings.jobs.max_upload_mb,
        error=error,
    )


@router.get("/feeds/upload", dependencies=[needs(Action.INGEST)], include_in_schema=False)
def upload_form(request: Request) -> Response:
    """The form: a feed file, its format (detected by default)."""
    return _upload_page(request)


@router.post("/feeds/upload", dependencies=[needs(Action.INGEST)], include_in_schema=False)
@streams_its_body
async def upload_feed(request: Request) -> Response:
    """Store the uploaded file (streamed to disk, within ``[jobs] max_upload_mb``), start its ingest
    job and go to the job's page."""
    state = request.app.state
    workspace = state.workspace
    lang = visitor(request).lang
    folder = new_upload_folder(workspace)
    try:
        received = await receive_upload(
            request, folder, file_field=FILE_FIELD, max_bytes=workspace.settings.jobs.max_upload_mb * MB
        )
    except UploadRefused as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _upload_page(request, status=exc.status, error=text(lang, exc.key, **exc.values))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    relative = str(received.path.relative_to(workspace.root))
    chosen = received.fields.get("format", "").strip() or None
    if chosen is not None and chosen not in _formats(request):
        discard_upload(workspace, relative)
        return _upload_page(request, status=400, error=text(lang, "upload_unknown_format", name=chosen))
    user = visitor(request).user
    job = await run_in_threadpool(
        state.jobs.submit,
        IngestRequest(relative, received.name, chosen),
        title=received.name or received.path.name,
        started_by=user.name if user else "",
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/jobs/render", dependencies=[needs(Action.RENDER)], include_in_schema=False)
def start_render(request: Request, week: Annotated[str, Form(max_length=20)]) -> Response:
    """Start rendering ``week`` in both languages and every format; go to the job's page."""
    try:
        chosen = Week.parse(week)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    user = visitor(request).user
    job = request.app.state.jobs.submit(
        RenderRequest(str(chosen)), title=str(chosen), started_by=user.name if user else ""
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def jobs_page(request: Request) -> Response:
    """The newest jobs, newest first; the forms that start one."""
    workspace = request.app.state.workspace
    return page(
        request,
        "jobs.html",
        jobs=recent_jobs(request.app.state.store, limit=RECENT),
        week=str(Week.last_complete(workspace.timezone)),
    )


def _job(request: Request, job_id: int) -> Job:
    job = get_job(request.app.state.store, job_id)
    if job is None:
        raise NotFound()
    return job


@router.get("/jobs/{job_id}", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def job_page(request: Request, job_id: int) -> Response:
    """One job: its progress while it runs (polled), then its summary or why it failed."""
    return page(request, "job.html", job=_job(request, job_id))


@router.get("/jobs/{job_id}/progress", dependencies=[needs(Action.VIEW)], include_in_schema=False)
def job_progress(request: Request, job_id: int) -> Response:
    """The job's part of its page, which the page polls every second while the job is active (the
    fragment of a finished job polls no more)."""
    return page(request, "_job.html", job=_job(request, job_id))
