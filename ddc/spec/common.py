"""Small models shared by several column kinds: skip gates and multi-modal context."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from ddc.spec.base import SpecModel


class SkipConfig(SpecModel):
    """Skip generating a cell when a Jinja condition is true for the row."""

    when: str = Field(
        description="Jinja template referencing at least one column, e.g. `{{ rating > 2 }}` or "
        "`{% if rating > 2 %}true{% endif %}`; a truthy render skips the cell."
    )
    value: bool | int | float | str | None = Field(default=None, description="Value written to skipped cells.")

    @field_validator("when")
    @classmethod
    def _is_jinja(cls, value: str) -> str:
        """Text with neither ``{{`` nor ``{%`` reads no column, which the official refuses; the rest of its
        rule (at least one column referenced, valid syntax) is ``ddc.spec.checks``', which imports Jinja."""
        if "{{" not in value and "{%" not in value:
            raise ValueError(
                f"skip.when must be a Jinja expression in {{{{ }}}}, e.g. '{{{{ {value.strip() or 'x > 1'} }}}}'"
            )
        return value


class _Context(SpecModel):
    column_name: str = Field(description="Column whose value (URL, file path or base64, or a list of them) is sent.")
    data_type: Literal["url", "base64"] | None = Field(
        default=None, description="How the value is given; null means detect (file, URL, then base64)."
    )


class ImageContext(_Context):
    """An image sent to the model with the prompt."""

    modality: Literal["image"] = Field(default="image", description="Always `image`.")
    image_format: Literal["png", "jpg", "jpeg", "gif", "webp"] | None = Field(
        default=None, description="Image format; required when data_type is base64."
    )

    @model_validator(mode="after")
    def _format_for_base64(self) -> ImageContext:
        if self.data_type == "base64" and self.image_format is None:
            raise ValueError("image_format is required when data_type is base64")
        return self


class AudioContext(_Context):
    """Audio sent to the model with the prompt."""

    modality: Literal["audio"] = Field(description="Always `audio`.")
    audio_format: Literal["mp3", "wav"] | None = Field(
        default=None, description="Audio format; required when data_type is base64."
    )

    @model_validator(mode="after")
    def _format_for_base64(self) -> AudioContext:
        if self.data_type == "base64" and self.audio_format is None:
            raise ValueError("audio_format is required when data_type is base64")
        return self


class VideoContext(_Context):
    """Video sent to the model with the prompt."""

    modality: Literal["video"] = Field(description="Always `video`.")
    video_format: Literal["mp4", "mov", "webm"] | None = Field(
        default=None, description="Video format; required when data_type is base64."
    )

    @model_validator(mode="after")
    def _format_for_base64(self) -> VideoContext:
        if self.data_type == "base64" and self.video_format is None:
            raise ValueError("video_format is required when data_type is base64")
        return self


def _modality(value: Any) -> str:
    """Legacy contexts without ``modality`` are images unless they name an audio or video format."""
    if isinstance(value, dict):
        if "modality" in value:
            return str(value["modality"])
        if "audio_format" in value:
            return "audio"
        if "video_format" in value:
            return "video"
        return "image"
    return str(getattr(value, "modality", "image"))


MultiModalContext = Annotated[
    Annotated[ImageContext, Tag("image")]
    | Annotated[AudioContext, Tag("audio")]
    | Annotated[VideoContext, Tag("video")],
    Discriminator(_modality),
]
