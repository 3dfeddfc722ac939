"""The HTTP API and the web page over named Predictors: `create_app(models, settings)`.

Every model is loaded once, here, at start-up (DESIGN.md rule 8) into a dict of named Predictors;
a request picks one by name and never loads anything. `POST /v1/read` takes an image (multipart
field `image`, or the raw body), checks it against the limits of `ServeSettings` and reads it on
the `Gate`'s worker threads within the request's time budget. Every refusal is a JSON 4xx
(`ApiError`); the page at `/` is static files calling this API. Imports FastAPI (Starlette),
uvicorn and `ocrlab.read`, never torch itself; nothing imports this package but the CLI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Message

from ocrlab import __version__
from ocrlab.errors import ConfigError, UserError
from ocrlab.read.letters import LetterReader
from ocrlab.read.predictor import Predictor, Reading
from ocrlab.read.preprocess import Stages
from ocrlab.serve.gallery import Gallery
from ocrlab.serve.gate import Busy, Gate
from ocrlab.serve.schemas import (
    ERRORS,
    READ_BODY,
    ApiError,
    ErrorResponse,
    GalleryResponse,
    Health,
    ModelInfo,
    ModelsResponse,
    ReadResponse,
    Stage,
    Timings,
)
from ocrlab.serve.settings import ServeSettings
from ocrlab.serve.upload import decode_upload, stage

STATIC = Path(__file__).resolve().parent / "static"
# The page uses nothing but its own files (the machines it runs on have no internet).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class _Context:
    predictors: dict[str, Predictor]
    settings: ServeSettings


def load_models(
    models: Mapping[str, Path] | Mapping[str, Predictor], device: str
) -> dict[str, Predictor]:
    """Named run folders (or ready Predictors) → named Predictors, in order; the first is the
    default."""
    if not models:
        raise ConfigError("give at least one model: --model NAME=RUN_DIR")
    return {
        name: m if isinstance(m, Predictor) else Predictor.load(Path(m), device)
        for name, m in models.items()
    }


def create_app(
    models: Mapping[str, Path] | Mapping[str, Predictor], settings: ServeSettings | None = None
) -> FastAPI:
    """The API and page over `models` (name → run folder or Predictor), loaded now, once."""
    settings = settings or ServeSettings()
    ctx = _Context(load_models(models, settings.device), settings)
    gallery = Gallery(settings.gallery) if settings.gallery is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gate = Gate(settings.workers, settings.queue)
        try:
            yield
        finally:
            app.state.gate.close()

    app = FastAPI(
        title="ocrlab",
        version=__version__,
        summary="Read word images, CAPTCHAs and letters with trained ocrlab models.",
        lifespan=lifespan,
    )
    _add_error_handlers(app)
    _add_read(app, ctx)
    _add_info(app, ctx, gallery)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    return app


def serve(models: Mapping[str, Path], settings: ServeSettings) -> None:
    """Load the models and serve the API and page with uvicorn until interrupted."""
    import uvicorn

    app = create_app(models, settings)
    uvicorn.run(app, host=settings.host, port=settings.port, timeout_graceful_shutdown=5)


def _add_error_handlers(app: FastAPI) -> None:
    def answer(status: int, code: str, detail: str, headers: Any = None) -> JSONResponse:
        body = ErrorResponse(error=code, detail=detail).model_dump()
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return answer(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return answer(exc.status_code, f"http_{exc.status_code}", str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
        return answer(422, "invalid_parameter", detail)


def _add_read(app: FastAPI, ctx: _Context) -> None:
    @app.post("/v1/read", response_model=ReadResponse, responses=ERRORS, openapi_extra=READ_BODY)
    async def read(
        request: Request,
        model: str | None = Query(None, description="model name (default: the first loaded)"),
        top_k: int | None = Query(None, description="alternatives to return (default 5)"),
        debug: bool = Query(False, description="also return the preprocessing stages"),
    ) -> ReadResponse:
        """Read one image: multipart field `image` (with optional form fields `model`, `top_k`)
        or the raw image bytes as the body. The format is sniffed from the bytes."""
        start = time.perf_counter()
        query = {"model": model, "top_k": None if top_k is None else str(top_k)}
        progress = {"uploaded": False}
        try:
            return await asyncio.wait_for(
                _read(request, ctx, query, debug, start, progress), ctx.settings.timeout_s
            )
        except asyncio.TimeoutError:
            limit = f"{ctx.settings.timeout_s:g} s"
            if not progress["uploaded"]:  # a slow (or slow-loris) client, not a slow server
                raise ApiError(408, "slow_upload", f"the upload took longer than {limit}") from None
            raise ApiError(504, "timeout", f"the read took longer than {limit}") from None
        except Busy:
            raise ApiError(
                503, "busy", "every worker is busy and the line is full; retry shortly",
                {"Retry-After": "1"},
            ) from None  # fmt: skip


async def _read(
    request: Request,
    ctx: _Context,
    query: dict[str, str | None],
    debug: bool,
    start: float,
    progress: dict[str, bool],
) -> ReadResponse:
    data, form = await _unpack(request, await _body(request, ctx.settings.max_bytes))
    progress["uploaded"] = True
    params = {**query, **form}  # form fields win over query parameters
    name = params["model"] or next(iter(ctx.predictors))
    if name not in ctx.predictors:
        loaded = ", ".join(ctx.predictors)
        raise ApiError(404, "unknown_model", f"no model named {name!r}; loaded: {loaded}")
    top_k = _top_k(params["top_k"], ctx.settings.max_top_k)
    job = partial(_read_image, ctx.predictors[name], data, top_k, debug, ctx.settings.max_pixels)
    gate: Gate = request.app.state.gate
    reading, timings, stages = await gate.run(job)
    timings["total_ms"] = 1000 * (time.perf_counter() - start)
    return ReadResponse(**reading.to_dict(), model=name, timings=Timings(**timings), stages=stages)


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes `limit` bytes, whatever it declares."""
    too_large = ApiError(413, "too_large", f"the request is over the {limit:,}-byte limit")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # nobody is left to answer; end the request without a traceback
        raise ApiError(400, "disconnected", "the client went away during the upload") from None
    return b"".join(chunks)


async def _unpack(request: Request, body: bytes) -> tuple[bytes, dict[str, str]]:
    """(image bytes, form fields): the `image` part of a multipart body, else the body itself."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return body, {}

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async with Request(request.scope, replay).form(max_files=1, max_fields=8) as form:
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            found = ", ".join(repr(k) for k in form) or "none"
            raise ApiError(
                422, "missing_image", f"the form has no file field 'image' (fields: {found})"
            )
        fields = {k: v for k, v in form.items() if k in ("model", "top_k") and isinstance(v, str)}
        return await upload.read(), fields


def _top_k(raw: str | None, limit: int) -> int:
    try:
        top_k = 5 if raw is None else int(raw)
    except ValueError:
        top_k = 0
    if not 1 <= top_k <= limit:
        raise ApiError(422, "invalid_parameter", f"top_k must be an integer in 1..{limit}")
    return top_k


def _read_image(
    predictor: Predictor, data: bytes, top_k: int, debug: bool, max_pixels: int
) -> tuple[Reading, dict[str, float], list[Stage]]:
    """Decode, preprocess and read one upload on a worker thread; times each step in ms."""
    t0 = time.perf_counter()
    pixels = decode_upload(data, max_pixels)
    t1 = time.perf_counter()
    if predictor.kind == "letters":
        return _read_letters(predictor, pixels, top_k, debug, t1 - t0)
    try:
        batch = predictor.preprocess([pixels])
        t2 = time.perf_counter()
        reading = predictor.read_batch(batch, top_k)[0]
    except UserError as exc:
        raise ApiError(400, "bad_image", str(exc)) from None
    t3 = time.perf_counter()
    timings = {"decode_ms": t1 - t0, "preprocess_ms": t2 - t1, "inference_ms": t3 - t2}
    stages = (
        [stage("decoded", pixels, max_side=320), stage("model input", batch[0])] if debug else []
    )
    return reading, {k: 1000 * v for k, v in timings.items()}, stages


def _read_letters(
    predictor: Predictor, pixels: np.ndarray, top_k: int, debug: bool, decode_s: float
) -> tuple[Reading, dict[str, float], list[Stage]]:
    """A letters model reads through the letter reader (binarise, segment, 28×28 letters); with
    `debug`, every stage it made is returned. Preprocessing and inference share one timing."""
    t1 = time.perf_counter()
    recorded = Stages() if debug else None
    try:
        reading = LetterReader(predictor).read_one(pixels, top_k, recorded)
    except UserError as exc:
        raise ApiError(400, "bad_image", str(exc)) from None
    spent = time.perf_counter() - t1
    timings = {"decode_ms": decode_s, "preprocess_ms": 0.0, "inference_ms": spent}
    stages = (
        [stage(name, image, max_side=320) for name, image in recorded.images] if recorded else []
    )
    return reading, {k: 1000 * v for k, v in timings.items()}, stages


def _add_info(app: FastAPI, ctx: _Context, gallery: Gallery | None) -> None:
    @app.get("/health", response_model=Health)
    def health() -> Health:
        return Health(status="ok", models=list(ctx.predictors))

    @app.get("/v1/models", response_model=ModelsResponse)
    def models() -> ModelsResponse:
        infos = []
        for i, (name, predictor) in enumerate(ctx.predictors.items()):
            meta = predictor.meta
            infos.append(
                ModelInfo(
                    name=name,
                    kind=str(meta["kind"]),
                    classes=len(meta.get("classes") or meta.get("charset") or ()),
                    input_size=(int(meta["input_size"][0]), int(meta["input_size"][1])),
                    channels=int(meta["channels"]),
                    default=i == 0,
                )
            )
        return ModelsResponse(models=infos)

    @app.get("/v1/gallery", response_model=GalleryResponse, responses={404: ERRORS[404]})
    def samples(
        n: int = Query(12, ge=1, le=48, description="number of samples"),
        seed: int = Query(
            0, ge=0, le=2**32 - 1, description="the same seed gives the same samples"
        ),
    ) -> GalleryResponse:
        """Random samples of the `--gallery` dataset with their labels."""
        if gallery is None:
            raise ApiError(404, "no_gallery", "no gallery: start the server with --gallery DIR")
        return GalleryResponse(seed=seed, items=gallery.sample(n, seed))
