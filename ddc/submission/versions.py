"""What each data-designer version accepts in a submitted config: a table, not code branches.

The service validates the config with the data-designer version it pins and forbids unknown fields, so
a payload is shaped for that version (``--dd-version``; NeMo Platform 0.4-0.6 pin 0.9.1, nemo-helix 0.8.1
pins 0.9.3). How the table was made: ``data-designer-config`` 0.9.1 and 0.9.6 (and 0.9.0, 0.9.7 for
reference) were installed side by side and compared programmatically: every field (annotation, default,
required) of every model reachable from ``DataDesignerConfig``, and the full JSON Schema (enums,
literals, bounds). Findings:

* the field sets, defaults and discriminator values are identical from 0.9.0 to 0.9.7;
* the only accepted-value change is the person sampler's managed locales: 0.9.6 adds ``en_GB`` and
  ``de_DE`` (``LOCALES_WITH_MANAGED_DATASETS``, checked by a validator);
* the default model aliases differ (``nvidia-text``, ``nvidia-embedding``), which does not matter to a
  submitted config: the service has no default aliases, so ddc always sends explicit model configs.

0.7.0 (pinned by NeMo Platform 0.3.0) was compared with 0.9.1 the same way: the config models are the
same (0.9.1 adds only run settings that are never submitted, and refuses category weights summing to
zero). What differs is the platform around it: 0.3.0 cannot read fileset seeds (``nmp``: its wheel
lacks the plugin entry point; ``directory``/``file_contents``: its server allows only ``hf`` and
``nmp``), so those seed types are a value addition "since 0.9.1".

``FIELD_ADDITIONS`` is therefore empty for the supported versions; the mechanism (omit a newer field
that holds its default, refuse one that does not) is exercised by tests with their own tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_VERSION = "0.9.1"
#: Versions whose models were compared (see the module docstring); others are refused.
SUPPORTED_VERSIONS: tuple[str, ...] = ("0.7.0", "0.9.0", "0.9.1", "0.9.6", "0.9.7")
#: The data-designer each NeMo Platform release pins (its wheel's requirement); ``--dd-version`` also
#: accepts ``platform-X.Y.Z`` for these. 0.3.0's wheel also lacks the ``data_designer.plugins`` entry
#: point, so fileset (``nmp``) seeds fail there, and its server allows only ``hf`` and ``nmp`` seeds.
PLATFORM_PINS: Mapping[str, str] = {"0.3.0": "0.7.0", "0.4.0": "0.9.1", "0.5.1": "0.9.1", "0.6.0": "0.9.1"}
PLATFORM_PREFIX = "platform-"


def resolve_version(text: str) -> str:
    """A data-designer version, or ``platform-X.Y.Z`` -> the version that platform pins.

    Raises ValueError naming the accepted values."""
    value = text.strip()
    if value.startswith(PLATFORM_PREFIX):
        pinned = PLATFORM_PINS.get(value[len(PLATFORM_PREFIX) :])
        if pinned is not None:
            return pinned
    elif value in SUPPORTED_VERSIONS:
        return value
    raise ValueError(f"{text!r} is not a supported submit target")


def version_for_platform(platform_version: str) -> str | None:
    """The data-designer a NeMo Platform release pins, when ddc knows the release."""
    return PLATFORM_PINS.get(platform_version.strip())


def accepted_versions() -> str:
    """What ``--dd-version`` accepts, for messages and help."""
    platforms = ", ".join(f"{PLATFORM_PREFIX}{p}" for p in PLATFORM_PINS)
    return ", ".join(SUPPORTED_VERSIONS) + f" (data-designer), or {platforms}"


Pattern = tuple[str, ...]  # keys of nested objects; "*" matches every item of a list or value of a mapping


@dataclass(frozen=True)
class FieldAddition:
    """A field that exists only from ``since`` on, in objects at ``where`` matching ``match``."""

    since: str
    feature: str
    where: Pattern
    field: str
    default: Any
    match: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ValueAddition:
    """Values of a field that are accepted only from ``since`` on."""

    since: str
    feature: str
    where: Pattern
    field: str
    values: tuple[Any, ...]
    match: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class VersionTable:
    field_additions: tuple[FieldAddition, ...] = ()
    value_additions: tuple[ValueAddition, ...] = ()


PERSON_PARAMS: Pattern = ("columns", "*", "params")
PERSON_CONDITIONAL_PARAMS: Pattern = ("columns", "*", "conditional_params", "*")

TABLE = VersionTable(
    field_additions=(),
    value_additions=(
        ValueAddition(
            "0.9.1",
            "seed source type (NeMo Platform 0.3.0, which pins data-designer 0.7.0, reads only hf seeds)",
            ("seed_config", "source"),
            "seed_type",
            ("nmp", "directory", "file_contents"),
        ),
        ValueAddition(
            "0.9.6",
            "person sampler locale",
            PERSON_PARAMS,
            "locale",
            ("en_GB", "de_DE"),
            {"sampler_type": "person"},
        ),
        ValueAddition(
            "0.9.6",
            "person sampler locale",
            PERSON_CONDITIONAL_PARAMS,
            "locale",
            ("en_GB", "de_DE"),
            {"sampler_type": "person"},
        ),
    ),
)


def parse_version(text: str) -> tuple[int, ...]:
    """``"0.9.1"`` -> ``(0, 9, 1)``; raises ValueError for anything else."""
    parts = text.strip().split(".")
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in parts)


def older_than(version: str, since: str) -> bool:
    return parse_version(version) < parse_version(since)


def find(
    config: Any, pattern: Pattern, match: Mapping[str, Any], prefix: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Objects at ``pattern`` in ``config`` whose keys equal ``match``, with their paths."""
    if not pattern:
        if isinstance(config, dict) and all(config.get(k) == v for k, v in match.items()):
            yield prefix, config
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        items: list[tuple[str | int, Any]] = (
            list(enumerate(config)) if isinstance(config, list)
            else list(config.items()) if isinstance(config, dict) else []
        )  # fmt: skip
        for key, value in items:
            yield from find(value, rest, match, (*prefix, key))
    elif isinstance(config, dict) and head in config:
        yield from find(config[head], rest, match, (*prefix, head))


@dataclass(frozen=True)
class VersionProblem:
    """A feature the target version lacks, at a config path."""

    path: tuple[str | int, ...]
    feature: str
    since: str
    value: Any


def shape_for_version(
    config: dict[str, Any], version: str, table: VersionTable = TABLE
) -> tuple[dict[str, Any], list[VersionProblem]]:
    """A copy of ``config`` without the newer fields that hold defaults, and the features it cannot have."""
    import copy

    shaped = copy.deepcopy(config)
    problems: list[VersionProblem] = []
    for addition in table.field_additions:
        if not older_than(version, addition.since):
            continue
        for path, obj in find(shaped, addition.where, addition.match):
            if addition.field not in obj:
                continue
            if obj[addition.field] == addition.default:
                del obj[addition.field]
            else:
                problems.append(
                    VersionProblem((*path, addition.field), addition.feature, addition.since, obj[addition.field])
                )
    for allowed in table.value_additions:
        if not older_than(version, allowed.since):
            continue
        for path, obj in find(shaped, allowed.where, allowed.match):
            if obj.get(allowed.field) in allowed.values:
                problems.append(
                    VersionProblem((*path, allowed.field), allowed.feature, allowed.since, obj[allowed.field])
                )
    return shaped, sorted(problems, key=lambda p: [str(x) for x in p.path])
