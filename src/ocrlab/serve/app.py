"""The HTTP API and the web page over named readers: `create_app(models, settings)`.

Every model is loaded once, here, at start-up (DESIGN.md rule 8) through the one resolver
(`ocrlab.read.resolve.load`: shipped names, run folders, MLP and `.onnx` files) into a dict of
named readers; with no models named, every shipped model. A request picks one by name and never
loads anything. `POST /v1/read` takes an image (multipart field `image`, or the raw body), checks
it against the limits of `ServeSettings`, decodes it once and reads it on the `Gate`'s worker
threads within the request's time budget, greedily unless `top_k` > 1. Every refusal is a JSON
4xx (`ApiError`); the page at `/` is static files calling this API. Imports FastAPI (Starlette),
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

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import Message

from ocrlab import __version__
from ocrlab.errors import ConfigError, UserError
from ocrlab.read.auto import AutoReader, Reader
from ocrlab.read.hint import Hint, hinted
from ocrlab.read.letters import LetterReader
from ocrlab.read.lines import LinesReader, by_lines
from ocrlab.read.predictor import Reading, colour_look
from ocrlab.read.resolve import load
from ocrlab.runtime.binarise import Stages
from ocrlab.runtime.checkpoint import Checkpoint
from ocrlab.runtime.device import share_cores
from ocrlab.runtime.line import read_widths
from ocrlab.runtime.shipped import SHIPPED, run_folder
from ocrlab.serve.gallery import Gallery
from ocrlab.serve.gate import Busy, Gate
from ocrlab.serve.schemas import (
    ERRORS,
    FORM_FIELDS,
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


ModelSpec = str | Path | Reader
"""What `--model NAME=...` names: anything `ocrlab.load` takes, or a ready reader."""


@dataclass(frozen=True)
class _Context:
    readers: dict[str, Reader]
    settings: ServeSettings


def load_models(models: Mapping[str, ModelSpec] | None, device: str) -> dict[str, Reader]:
    """Named model specs → named readers, in order (the first is the default); with none, every
    shipped model. Two names of one file share one loaded reader."""
    specs: Mapping[str, ModelSpec] = models or {name: name for name in SHIPPED}
    loaded: dict[str, Reader] = {}
    readers: dict[str, Reader] = {}
    for name, spec in specs.items():
        if not isinstance(spec, str | Path):
            readers[name] = spec
            continue
        key = str(Path(run_folder(spec)).resolve()) if str(spec) != "auto" else "auto"
        if key not in loaded:
            loaded[key] = load(spec, device)
        readers[name] = loaded[key]
    return readers


def create_app(
    models: Mapping[str, ModelSpec] | None = None, settings: ServeSettings | None = None
) -> FastAPI:
    """The API and page over `models` (name → anything `ocrlab.load` takes, or a reader; None:
    every shipped model), loaded now, once."""
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


def serve(models: Mapping[str, ModelSpec] | None, settings: ServeSettings) -> None:
    """Load the models and serve the API and page with uvicorn until interrupted."""
    import uvicorn

    share_cores(settings.workers)
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
        top_k: int | None = Query(
            None, description="alternatives to return (default 1: greedy; > 1: beam search)"
        ),
        debug: bool = Query(False, description="also return the preprocessing stages"),
        lines: bool = Query(
            False, description="the image may hold several lines: read each, join with newlines"
        ),
        charset: str | None = Query(
            None,
            description="characters the text may use: digits, lower, upper, alnum, alnum-lower "
            "(join with +) or the characters themselves; line models only",
        ),
        length: str | None = Query(
            None, description="characters in the text (5) or a range (4-6); line models only"
        ),
        thorough: bool = Query(
            False,
            description="read each line it is unsure of in seven views and keep the reading "
            "they agree on: a few points more on most CAPTCHAs for up to seven times the time; "
            "line models only",
        ),
        colour: bool = Query(
            True,
            description="false: read in grey only, without the general reader's second look in "
            "colour at the lines it is unsure of (faster on colour CAPTCHAs); line models only",
        ),
    ) -> ReadResponse:
        """Read one image: multipart field `image` (with optional form fields `model`, `top_k`,
        `lines`, `charset`, `length`, `thorough`, `colour`) or the raw image bytes as the body.
        The format is sniffed from the bytes."""
        start = time.perf_counter()
        query = {"model": model, "top_k": None if top_k is None else str(top_k),
                 "lines": str(lines).lower(), "charset": charset, "length": length,
                 "thorough": str(thorough).lower(), "colour": str(colour).lower()}  # fmt: skip
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
    name = params["model"] or next(iter(ctx.readers))
    if name not in ctx.readers:
        loaded = ", ".join(ctx.readers)
        raise ApiError(404, "unknown_model", f"no model named {name!r}; loaded: {loaded}")
    top_k = _top_k(params["top_k"], ctx.settings.max_top_k)
    hint = (params["charset"], params["length"], _flag(params["thorough"], "thorough"),
            _flag(params["colour"] or "true", "colour"))  # fmt: skip
    try:
        reader = hinted(ctx.readers[name], Hint.parse(*hint))
    except ConfigError as exc:
        raise ApiError(422, "invalid_parameter", str(exc)) from None
    if _flag(params["lines"], "lines"):
        reader = by_lines(reader)
    job = partial(_read_image, reader, data, top_k, debug, ctx.settings.max_pixels)
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

    most = len(FORM_FIELDS) + 1  # room for one field the API does not know, which it ignores
    async with Request(request.scope, replay).form(max_files=1, max_fields=most) as form:
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            found = ", ".join(repr(k) for k in form) or "none"
            raise ApiError(
                422, "missing_image", f"the form has no file field 'image' (fields: {found})"
            )
        fields = {k: v for k, v in form.items()
                  if k in FORM_FIELDS and isinstance(v, str)}  # fmt: skip
        return await upload.read(), fields


def _top_k(raw: str | None, limit: int) -> int:
    try:
        top_k = 1 if raw is None else int(raw)
    except ValueError:
        top_k = 0
    if not 1 <= top_k <= limit:
        raise ApiError(422, "invalid_parameter", f"top_k must be an integer in 1..{limit}")
    return top_k


TRUE, FALSE = ("1", "true", "t", "yes", "y", "on"), ("0", "false", "f", "no", "n", "off")
"""What a flag may say, in any case: what FastAPI's bool query parameters take, so a form field
(an HTML checkbox sends `on`) reads as the query parameter does."""


def _flag(raw: str | None, name: str) -> bool:
    value = (raw or "false").lower()
    if value not in TRUE + FALSE:
        raise ApiError(422, "invalid_parameter", f"{name} must be true or false, got {raw!r}")
    return value in TRUE


def _read_image(
    reader: Reader, data: bytes, top_k: int, debug: bool, max_pixels: int
) -> tuple[Reading, dict[str, float], list[Stage]]:
    """Decode once, preprocess and read one upload on a worker thread; times each step in ms."""
    t0 = time.perf_counter()
    image = decode_upload(data, max_pixels)
    t1 = time.perf_counter()
    if isinstance(reader, LetterReader | AutoReader):
        return _read_letters(reader, image, top_k, debug, t1 - t0)
    if isinstance(reader, LinesReader):
        return _read_lines(reader, image, top_k, debug, t1 - t0)
    try:
        batch = reader.preprocess([image])  # type: ignore[attr-defined]
        t2 = time.perf_counter()
        again = colour_look(reader, [image])  # a second look in colour, as `read` has
        reading = reader.read_batch(batch, top_k, again)[0]  # type: ignore[attr-defined]
    except UserError as exc:
        raise ApiError(400, "bad_image", str(exc)) from None
    t3 = time.perf_counter()
    timings = {"decode_ms": t1 - t0, "preprocess_ms": t2 - t1, "inference_ms": t3 - t2}
    stages = []
    if debug:
        if getattr(reader, "kind", None) == "line":  # the columns the model reads, not 1,024
            batch = batch[:, :, : read_widths(batch)[0]]
        stages = [stage("decoded", image, max_side=320), stage("model input", batch[0])]
    return reading, {k: 1000 * v for k, v in timings.items()}, stages


def _read_lines(
    reader: LinesReader, image: Image.Image, top_k: int, debug: bool, decode_s: float
) -> tuple[Reading, dict[str, float], list[Stage]]:
    """An image of several lines, line by line; with `debug`, each line's crop. Cutting and
    reading share one timing."""
    t1 = time.perf_counter()
    try:
        crops = reader.lines(image)
        reading = reader.read_cut([image], [crops], top_k)[0]
    except UserError as exc:
        raise ApiError(400, "bad_image", str(exc)) from None
    timings = {
        "decode_ms": decode_s,
        "preprocess_ms": 0.0,
        "inference_ms": time.perf_counter() - t1,
    }
    crops = crops if debug else []
    stages = [stage("decoded", image, max_side=320)] if debug else []
    stages += [stage(f"line {n}", crop, max_side=320) for n, crop in enumerate(crops, 1)]
    return reading, {k: 1000 * v for k, v in timings.items()}, stages


def _read_letters(
    reader: LetterReader | AutoReader, image: Image.Image, top_k: int, debug: bool, decode_s: float
) -> tuple[Reading, dict[str, float], list[Stage]]:
    """The letter reader (binarise, segment, 28×28 letters); with `debug`, every stage it made is
    returned. Preprocessing and inference share one timing."""
    t1 = time.perf_counter()
    recorded = Stages() if debug else None
    try:
        reading = reader.read_one(image, top_k, recorded)
    except UserError as exc:
        raise ApiError(400, "bad_image", str(exc)) from None
    spent = time.perf_counter() - t1
    timings = {"decode_ms": decode_s, "preprocess_ms": 0.0, "inference_ms": spent}
    stages = (
        [stage(name, image, max_side=320) for name, image in recorded.images] if recorded else []
    )
    return reading, {k: 1000 * v for k, v in timings.items()}, stages


def _checkpoint(reader: Reader) -> Checkpoint | None:
    """The checkpoint behind a reader: its own, its letter model's, or none (auto)."""
    model = reader.model if isinstance(reader, LetterReader) else reader
    ckpt = getattr(model, "checkpoint", None)
    return ckpt if isinstance(ckpt, Checkpoint) else None


def _add_info(app: FastAPI, ctx: _Context, gallery: Gallery | None) -> None:
    @app.get("/health", response_model=Health)
    def health() -> Health:
        return Health(status="ok", models=list(ctx.readers))

    @app.get("/v1/models", response_model=ModelsResponse)
    def models() -> ModelsResponse:
        infos = []
        for i, (name, reader) in enumerate(ctx.readers.items()):
            ckpt = _checkpoint(reader)
            infos.append(
                ModelInfo(
                    name=name,
                    kind=ckpt.kind if ckpt else "auto",
                    classes=len(ckpt.classes or ckpt.charset) if ckpt else 0,
                    input_size=ckpt.input_size if ckpt else (0, 0),
                    channels=ckpt.channels if ckpt else 3,
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
