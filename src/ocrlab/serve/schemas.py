"""The HTTP API's JSON: pydantic response models, and `ApiError` for every refused request.

These models are the API's contract (they also make the OpenAPI page at `/docs`); handlers build
them and nothing else is returned. Every bad input becomes an `ApiError`, answered as a JSON
`ErrorResponse` with a 4xx status, never a 500. Imports pydantic and the standard library only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ApiError(Exception):
    """A refused request: HTTP status, a short machine-readable code and one clear sentence."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


class ErrorResponse(BaseModel):
    error: str = Field(description="machine-readable code, e.g. too_large, not_an_image")
    detail: str = Field(description="one sentence saying what was wrong")


class CharProb(BaseModel):
    char: str
    p: float = Field(ge=0, le=1)


class Alternative(BaseModel):
    text: str
    p: float = Field(ge=0, le=1)


class Timings(BaseModel):
    decode_ms: float = Field(description="bytes → pixels (format sniffing, limits, decoding)")
    preprocess_ms: float = Field(description="pixels → the model's input")
    inference_ms: float = Field(description="Predictor.read: model and postprocessing")
    total_ms: float = Field(description="the whole request, upload and queueing included")


class Stage(BaseModel):
    """One preprocessing stage, as the page shows it."""

    name: str
    width: int
    height: int
    png: str = Field(description="the stage's image, PNG, base64")


class ReadResponse(BaseModel):
    text: str
    confidence: float = Field(ge=0, le=1)
    chars: list[CharProb] = Field(description="per-character probabilities (sequence models)")
    topk: list[Alternative]
    letters: list[list[CharProb]] = Field(
        default_factory=list, description="each letter's top-k (letters models)"
    )
    model: str
    timings: Timings
    stages: list[Stage] = Field(description="preprocessing stages, only with debug=1")


class ModelInfo(BaseModel):
    name: str
    kind: str = Field(description="classifier, seq, letters, ...")
    classes: int = Field(description="number of classes (of characters, for sequence models)")
    input_size: tuple[int, int] = Field(description="(height, width) of the model input")
    channels: int
    default: bool = Field(description="used when a request names no model")


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class Health(BaseModel):
    status: str
    models: list[str]


class GalleryItem(BaseModel):
    label: str = Field(description="the text as drawn")
    png: str = Field(description="the sample, PNG, base64")


class GalleryResponse(BaseModel):
    seed: int
    items: list[GalleryItem]


ERRORS: dict[int | str, dict[str, Any]] = {  # the statuses POST /v1/read may answer
    status: {"model": ErrorResponse} for status in (400, 404, 408, 413, 415, 422, 503, 504)
}
FORM_FIELDS: dict[str, dict[str, Any]] = {
    name: {"type": kind, "description": f"as the query parameter {name}, which it overrides"}
    for name, kind in (("model", "string"), ("top_k", "integer"), ("lines", "boolean"),
                       ("charset", "string"), ("length", "string"), ("thorough", "boolean"),
                       ("colour", "boolean"))
}  # fmt: skip
"""The form fields a multipart read takes beside `image`; each wins over its query parameter."""

READ_BODY = {  # the request body of POST /v1/read, which the handler parses itself
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {"image": {"type": "string", "format": "binary"}, **FORM_FIELDS},
                }
            },
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
