"""Model configs, inference parameters and sampled (distribution-valued) parameters."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PrivateAttr, Tag, model_validator

from ddc.spec.base import AsWritten, SpecModel, normalised_weights


class ManualDistributionParams(SpecModel):
    """Discrete values with optional weights."""

    values: list[float] = Field(min_length=1, description="Values to sample from.")
    weights: list[float] | None = Field(default=None, description="Relative weights, normalised to sum to 1.")

    _written_weights: AsWritten | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_weights(self) -> ManualDistributionParams:
        if self.weights is not None:
            self._written_weights = AsWritten(self.weights)  # emitted as written: the official normalises again
            object.__setattr__(self, "weights", normalised_weights(self.values, self.weights))
        return self


class UniformDistributionParams(SpecModel):
    """Continuous range."""

    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound; above low.")

    @model_validator(mode="after")
    def _low_below_high(self) -> UniformDistributionParams:
        if self.low >= self.high:
            raise ValueError(f"low must be below high (got {self.low:g} >= {self.high:g})")
        return self


class ManualDistribution(SpecModel):
    """A value sampled per request from a discrete set."""

    distribution_type: Literal["manual"] = Field(default="manual", description="Always `manual`.")
    params: ManualDistributionParams = Field(description="Values and weights.")

    def bounds(self) -> tuple[float, float]:
        return min(self.params.values), max(self.params.values)


class UniformDistribution(SpecModel):
    """A value sampled per request from a range."""

    distribution_type: Literal["uniform"] = Field(default="uniform", description="Always `uniform`.")
    params: UniformDistributionParams = Field(description="Range.")

    def bounds(self) -> tuple[float, float]:
        return self.params.low, self.params.high


def _distribution_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "distribution_type" in value:
            return str(value["distribution_type"])
        params = value.get("params")
        return "manual" if isinstance(params, dict) and "values" in params else "uniform"
    return str(getattr(value, "distribution_type", "uniform"))


Distribution = Annotated[
    Annotated[UniformDistribution, Tag("uniform")] | Annotated[ManualDistribution, Tag("manual")],
    Discriminator(_distribution_kind),
]


class _InferenceBase(SpecModel):
    max_parallel_requests: int = Field(default=4, ge=1, description="Requests in flight at once for this model.")
    timeout: int | None = Field(default=None, ge=1, description="Request timeout in seconds; null means 60.")
    extra_body: dict[str, Any] | None = Field(
        default=None, description="Extra keys merged at the top level of every request body."
    )


def _check_range(
    name: str, value: float | ManualDistribution | UniformDistribution | None, low: float, high: float
) -> None:
    if value is None:
        return
    lo, hi = (value, value) if isinstance(value, (int, float)) else value.bounds()
    if lo < low or hi > high:
        raise ValueError(f"{name} must be within [{low:g}, {high:g}]")


class ChatCompletionParams(_InferenceBase):
    """Parameters of chat-completion requests (text, code, structured, judge columns)."""

    generation_type: Literal["chat-completion"] = Field(
        default="chat-completion", description="Always `chat-completion`."
    )
    temperature: float | Distribution | None = Field(
        default=None, description="Sampling temperature in [0, 2], or a distribution sampled per request."
    )
    top_p: float | Distribution | None = Field(
        default=None, description="Nucleus sampling in [0, 1], or a distribution sampled per request."
    )
    max_tokens: int | None = Field(default=None, ge=1, description="Maximum tokens to generate.")

    @model_validator(mode="after")
    def _ranges(self) -> ChatCompletionParams:
        _check_range("temperature", self.temperature, 0.0, 2.0)
        _check_range("top_p", self.top_p, 0.0, 1.0)
        return self


class EmbeddingParams(_InferenceBase):
    """Parameters of embedding requests."""

    generation_type: Literal["embedding"] = Field(default="embedding", description="Always `embedding`.")
    encoding_format: Literal["float", "base64"] = Field(default="float", description="Encoding of the vectors.")
    dimensions: int | None = Field(default=None, description="Vector size, for models that support it.")


class ImageParams(_InferenceBase):
    """Parameters of image-generation requests; model options go in extra_body."""

    generation_type: Literal["image"] = Field(default="image", description="Always `image`.")


def _generation_type(value: Any) -> str:
    """As the official library: explicit type, else embedding fields mean embedding, else chat."""
    if isinstance(value, dict):
        kind = value.get("generation_type")
        if isinstance(kind, str) and kind in {"image", "embedding", "chat-completion"}:
            return str(kind)
        if "encoding_format" in value or "dimensions" in value:
            return "embedding"
        return "chat-completion" if kind is None else str(kind)
    return str(getattr(value, "generation_type", "chat-completion"))


InferenceParams = Annotated[
    Annotated[ChatCompletionParams, Tag("chat-completion")]
    | Annotated[EmbeddingParams, Tag("embedding")]
    | Annotated[ImageParams, Tag("image")],
    Discriminator(_generation_type),
]


class ModelConfig(SpecModel):
    """A model that columns refer to by alias."""

    alias: str = Field(description="Name columns use in `model_alias`.")
    model: str = Field(description="Model id sent in requests, e.g. `nvidia/nemotron-3-nano-30b-a3b`.")
    inference_parameters: InferenceParams = Field(
        default_factory=ChatCompletionParams, description="Generation type and request parameters."
    )
    provider: str = Field(
        description="Provider name: one of `providers` (local runs), a default provider (`nvidia`, `openai`, "
        "`openrouter`), or a NeMo Inference Gateway provider `workspace/name`."
    )
    skip_health_check: bool = Field(default=False, description="Do not probe this model before a run.")
