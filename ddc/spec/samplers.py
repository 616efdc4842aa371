"""Sampler params and sampler columns.

A sampler column is itself a union discriminated on ``sampler_type``: each variant pins the type of
``params`` and ``conditional_params``. That is what lets an editor offer exactly ``low``, ``high``,
``decimal_places`` inside the params of a ``uniform`` sampler, and what makes ``params.sampler_type``
optional in YAML (it is filled in, as the official library does).
"""

from __future__ import annotations

import datetime as _dt
import warnings
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from ddc.spec.base import AsWritten, FieldProblem, SpecModel, normalised_weights
from ddc.spec.common import SkipConfig
from ddc.spec.vocab import FAKER_LOCALES, MAX_AGE, MIN_AGE, PERSONA_LOCALES

_DECIMALS = "Round sampled values to this many decimal places; null keeps full precision."

#: The parameter domains checked at validate time, so that no value a spec may hold crashes a run:
#: magnitudes whose squares (statistics) still fit a float, counts numpy can draw, offsets datetime64
#: can add, and roundings a float can express.
MAX_MAGNITUDE = 1e100
MAX_COUNT = 10**15
MAX_DECIMALS = 15
MAX_OFFSET_SECONDS = 10_000 * 366 * 86_400  # ten thousand years
#: the largest float an int64 holds with room to spare (convert_to: int)
MAX_INT_FLOAT = 9.0e18


def _decimals() -> Any:
    return Field(default=None, ge=-MAX_DECIMALS, le=MAX_DECIMALS, description=_DECIMALS)


def _real(description: str, *, ge: float = -MAX_MAGNITUDE) -> Any:
    return Field(ge=ge, le=MAX_MAGNITUDE, description=description)


class CategoryParams(SpecModel):
    """Sample from a list of values, optionally weighted."""

    values: list[str | int | float] = Field(min_length=1, description="Values to sample from.")
    weights: list[float] | None = Field(
        default=None,
        description="Relative weight of each value, in order; normalised to sum to 1. Null means uniform.",
    )
    sampler_type: Literal["category"] = Field(default="category", description="Always `category`.")

    _written_weights: AsWritten | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_weights(self) -> CategoryParams:
        if self.weights is not None:
            self._written_weights = AsWritten(self.weights)  # emitted as written: the official normalises again
            object.__setattr__(self, "weights", normalised_weights(self.values, self.weights))
        return self


class SubcategoryParams(SpecModel):
    """Sample a value from a list chosen by the value of a parent ``category`` column."""

    category: str = Field(description="Name of the parent `category` sampler column.")
    values: dict[str, list[str | int | float]] = Field(
        description="For each value of the parent column, the list of subcategory values to sample from."
    )
    sampler_type: Literal["subcategory"] = Field(default="subcategory", description="Always `subcategory`.")

    @field_validator("values")
    @classmethod
    def _non_empty(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        empty = [k for k, v in value.items() if not v]
        if empty:
            raise ValueError(f"every subcategory list needs at least one value; empty for {empty}")
        return value


class UniformParams(SpecModel):
    """Continuous uniform distribution on [low, high)."""

    low: float = _real("Lower bound (inclusive).")
    high: float = _real("Upper bound (exclusive).")
    decimal_places: int | None = _decimals()
    sampler_type: Literal["uniform"] = Field(default="uniform", description="Always `uniform`.")

    @model_validator(mode="after")
    def _low_below_high(self) -> UniformParams:
        # equal bounds are a constant column, as the official engine (scipy's uniform) gives them
        if self.low > self.high:
            raise ValueError(f"low must not be above high (got {self.low:g} > {self.high:g})")
        return self


class GaussianParams(SpecModel):
    """Normal distribution."""

    mean: float = _real("Mean of the distribution.")
    stddev: float = _real("Standard deviation of the distribution (not negative).", ge=0.0)
    decimal_places: int | None = _decimals()
    sampler_type: Literal["gaussian"] = Field(default="gaussian", description="Always `gaussian`.")


class BernoulliParams(SpecModel):
    """0 or 1, with probability p of 1."""

    p: float = Field(ge=0.0, le=1.0, description="Probability of 1.")
    sampler_type: Literal["bernoulli"] = Field(default="bernoulli", description="Always `bernoulli`.")


class BernoulliMixtureParams(SpecModel):
    """0 with probability 1-p, otherwise a draw from a scipy.stats distribution."""

    p: float = Field(ge=0.0, le=1.0, description="Probability of drawing from the distribution.")
    dist_name: str = Field(description="Name of a scipy.stats distribution, e.g. `expon`.")
    dist_params: dict[str, Any] = Field(description="Keyword arguments of the scipy.stats distribution.")
    sampler_type: Literal["bernoulli_mixture"] = Field(
        default="bernoulli_mixture", description="Always `bernoulli_mixture`."
    )


class BinomialParams(SpecModel):
    """Number of successes in n trials with success probability p."""

    n: int = Field(ge=0, le=MAX_COUNT, description="Number of trials.")
    p: float = Field(ge=0.0, le=1.0, description="Success probability of each trial.")
    sampler_type: Literal["binomial"] = Field(default="binomial", description="Always `binomial`.")


class PoissonParams(SpecModel):
    """Poisson distribution."""

    mean: float = Field(ge=0.0, le=MAX_COUNT, description="Mean (lambda) of the distribution (not negative).")
    sampler_type: Literal["poisson"] = Field(default="poisson", description="Always `poisson`.")


class ScipyParams(SpecModel):
    """Any scipy.stats distribution (needs the `scipy` extra to run)."""

    dist_name: str = Field(description="Name of a scipy.stats distribution, e.g. `lognorm`.")
    dist_params: dict[str, Any] = Field(description="Keyword arguments of the distribution.")
    decimal_places: int | None = _decimals()
    sampler_type: Literal["scipy"] = Field(default="scipy", description="Always `scipy`.")


def _parse_datetime(value: str) -> _dt.datetime:
    """A bound as naive UTC, which is how the official reads it (``pandas.to_datetime(...).value``): an
    offset is converted to UTC and a naive value is taken as UTC, so the two kinds compare and draw alike.
    ISO 8601 is parsed here; anything else goes to pandas (imported only then, and only if installed)."""
    parsed = _parse_iso(value)
    if parsed is None:
        parsed = _parse_with_pandas(value)
    if parsed is None:
        raise ValueError(
            f"invalid datetime {value!r}; use ISO 8601 such as 2024-01-31 or 2024-01-31T12:00:00"
            " (other formats are read by pandas.to_datetime when pandas is installed)"
        )
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"datetime {value!r} is out of range once converted to UTC") from None
    return parsed


def _parse_iso(value: str) -> _dt.datetime | None:
    text = value.strip().replace("/", "-")
    if text.endswith("Z"):
        text = text[:-1]
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in ("%Y", "%Y-%m"):
        try:
            return _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


#: Words pandas reads from the clock: a bound must name the same instant whenever the spec is read, or
#: a seed no longer fixes the data and a resumed run mixes batches drawn from different ranges.
_CLOCK_WORDS = frozenset({"now", "today", "yesterday", "tomorrow"})


def _parse_with_pandas(value: str) -> _dt.datetime | None:
    if value.strip().lower() in _CLOCK_WORDS or _leaves_fields_to_the_clock(value):
        raise ValueError(
            f"datetime {value!r} depends on the day the spec is read; give a full date such as 2024-01-31"
            " (the same seed must give the same data)"
        )
    try:
        import pandas as pd
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "parsing dates in %d/%m/%Y format"
            stamp = pd.to_datetime(value)
            if stamp is pd.NaT:
                return None
            parsed = stamp.to_pydatetime(warn=False)
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed if isinstance(parsed, _dt.datetime) else None


def _leaves_fields_to_the_clock(value: str) -> bool:
    """Text such as ``Monday`` or ``10:30``, which a date parser completes from today's date: read with
    two different defaults, it gives two different datetimes. (dateutil comes with pandas; without it
    pandas is not there to read the text either.)"""
    try:
        from dateutil import parser
    except ImportError:
        return False
    try:
        # pandas completes a missing day or month with 1 and a missing time with midnight, but a missing
        # year (or date) from today: only the year of the two defaults differs
        first = parser.parse(value, default=_dt.datetime(2001, 1, 1))
        second = parser.parse(value, default=_dt.datetime(2002, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return False
    return first.replace(tzinfo=None) != second.replace(tzinfo=None)


_BOUND = "ISO 8601 or any text pandas.to_datetime reads; an offset is converted to UTC."


class DatetimeParams(SpecModel):
    """Uniform datetimes in [start, end), truncated to ``unit``; written as strings."""

    start: str = Field(description=f"Earliest datetime (inclusive), {_BOUND}")
    end: str = Field(description=f"Upper bound (exclusive), {_BOUND}")
    unit: Literal["Y", "M", "D", "h", "m", "s"] = Field(
        default="D", description="Granularity: Y years, M months, D days, h hours, m minutes, s seconds."
    )
    sampler_type: Literal["datetime"] = Field(default="datetime", description="Always `datetime`.")

    @field_validator("start", "end")
    @classmethod
    def _is_datetime(cls, value: str) -> str:
        _parse_datetime(value)
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> DatetimeParams:
        if _parse_datetime(self.start) >= _parse_datetime(self.end):
            raise ValueError(f"start must be before end (got {self.start} >= {self.end})")
        return self


class TimedeltaParams(SpecModel):
    """A random offset added to a reference datetime column."""

    dt_min: int = Field(ge=0, description="Smallest offset (inclusive), in `unit`.")
    dt_max: int = Field(gt=0, description="Largest offset (exclusive), in `unit`; above dt_min.")
    reference_column_name: str = Field(description="Sampler column (usually `datetime`) the offset is added to.")
    unit: Literal["D", "h", "m", "s"] = Field(default="D", description="Offset unit: D days, h, m or s.")
    sampler_type: Literal["timedelta"] = Field(default="timedelta", description="Always `timedelta`.")

    @model_validator(mode="after")
    def _min_below_max(self) -> TimedeltaParams:
        if self.dt_min >= self.dt_max:
            raise ValueError(f"dt_min must be below dt_max (got {self.dt_min} >= {self.dt_max})")
        seconds = {"D": 86_400, "h": 3_600, "m": 60, "s": 1}[self.unit]
        if self.dt_max * seconds > MAX_OFFSET_SECONDS:
            raise ValueError(f"dt_max {self.dt_max} {self.unit} is more than ten thousand years")
        return self


class UuidParams(SpecModel):
    """Random UUID4 hex strings (no hyphens)."""

    prefix: str | None = Field(default=None, description="Text put before each UUID, e.g. `order-`.")
    short_form: bool = Field(default=False, description="Keep only the first 8 hex characters.")
    uppercase: bool = Field(default=False, description="Upper-case the hex letters.")
    sampler_type: Literal["uuid"] = Field(default="uuid", description="Always `uuid`.")


def _check_age_range(value: list[int]) -> list[int]:
    low, high = value
    if low < MIN_AGE or high > MAX_AGE or low >= high:
        raise ValueError(f"age_range must be [min, max] with {MIN_AGE} <= min < max <= {MAX_AGE} (got {value})")
    return value


class PersonParams(SpecModel):
    """People drawn from a managed Nemotron-Personas dataset for a locale."""

    locale: str = Field(default="en_US", description="Locale of the persona dataset, e.g. `en_US`.")
    sex: Literal["Male", "Female"] | None = Field(default=None, description="Only people of this sex.")
    city: str | list[str] | None = Field(default=None, description="Only people from this city or these cities.")
    age_range: list[int] = Field(
        default=[18, 114], min_length=2, max_length=2, description="[min, max] age, within 0..114."
    )
    select_field_values: dict[str, list[str]] | None = Field(
        default=None, description="Only people whose field has one of these values, e.g. {state: [NY, CA]}."
    )
    with_synthetic_personas: bool = Field(default=False, description="Add the synthetic persona text fields.")
    sampler_type: Literal["person"] = Field(default="person", description="Always `person`.")

    _age = field_validator("age_range")(classmethod(lambda cls, v: _check_age_range(v)))

    @field_validator("locale")
    @classmethod
    def _managed_locale(cls, value: str) -> str:
        if value not in PERSONA_LOCALES:
            raise ValueError(
                f"no managed persona dataset for locale {value!r}; use one of {', '.join(PERSONA_LOCALES)}"
            )
        return value


class PersonFromFakerParams(SpecModel):
    """People synthesised by Faker for a locale (needs the `faker` extra to run)."""

    locale: str = Field(default="en_US", description="Faker locale, e.g. `en_US` or `de_DE`.")
    sex: Literal["Male", "Female"] | None = Field(default=None, description="Sex of every generated person.")
    city: str | list[str] | None = Field(default=None, description="City, or list of cities picked at random.")
    age_range: list[int] = Field(
        default=[18, 114], min_length=2, max_length=2, description="[min, max] age, within 0..114."
    )
    sampler_type: Literal["person_from_faker"] = Field(
        default="person_from_faker", description="Always `person_from_faker`."
    )

    _age = field_validator("age_range")(classmethod(lambda cls, v: _check_age_range(v)))

    @field_validator("locale")
    @classmethod
    def _faker_locale(cls, value: str) -> str:
        if value not in FAKER_LOCALES:
            raise ValueError(f"unknown Faker locale {value!r}")
        return value


# --- sampler columns -------------------------------------------------------------------------------


class _SamplerColumnBase(SpecModel):
    name: str = Field(description="Column name, unique in the spec; also the output column name.")
    drop: bool = Field(
        default=False, description="Generate the column for use by others, then drop it from the output."
    )
    column_type: Literal["sampler"] = Field(default="sampler", description="Always `sampler`.")
    skip: SkipConfig | None = Field(default=None, description="Not allowed on sampler columns; always null.")
    propagate_skip: bool = Field(default=True, description="Kept for compatibility; samplers are never skipped.")
    convert_to: str | None = Field(
        default=None,
        description="`int`, `float` or `str` for numeric and category samplers; a strftime format for "
        "datetime and timedelta; ignored by uuid and person samplers.",
    )

    @field_validator("skip")
    @classmethod
    def _no_skip(cls, value: SkipConfig | None) -> None:
        if value is not None:
            raise ValueError("skip is not allowed on sampler columns; put the condition on the columns that use it")
        return None

    @model_validator(mode="after")
    def _check_convert_to(self) -> _SamplerColumnBase:
        target = self.convert_to
        sampler_type = getattr(self, "sampler_type", None)
        if target is None:
            return self
        if sampler_type in {"datetime", "timedelta"}:
            try:
                text = _dt.datetime(2024, 2, 15, 13, 45, 30).strftime(target)
            except ValueError as exc:
                problem = f"convert_to {target!r} is not a valid strftime format: {exc}"
                raise FieldProblem("convert_to", problem) from None
            if text == target:
                problem = f"convert_to {target!r} has no strftime directives; use e.g. '%Y-%m-%d'"
                raise FieldProblem("convert_to", problem)
        elif sampler_type not in {"uuid", "person", "person_from_faker"} and target not in {"int", "float", "str"}:
            raise FieldProblem(
                "convert_to", f"convert_to must be one of int, float, str for a {sampler_type} sampler (got {target!r})"
            )
        if target == "int":
            params = [getattr(self, "params", None), *getattr(self, "conditional_params", {}).values()]
            widest = max((_reach(p) for p in params), default=0.0)
            if widest > MAX_INT_FLOAT:
                raise FieldProblem("convert_to", f"convert_to int: values reach {widest:.3g}, beyond a 64-bit integer")
        return self


def _reach(params: Any) -> float:
    """How far from zero a uniform or gaussian sampler's values go (40 standard deviations)."""
    if isinstance(params, UniformParams):
        return max(abs(params.low), abs(params.high))
    if isinstance(params, GaussianParams):
        return abs(params.mean) + 40 * params.stddev
    return 0.0


def _conditional(params: type) -> Any:
    return Field(
        default_factory=dict,
        description="Params used instead of `params` on rows where a condition holds. Keys are Jinja "
        "expressions without braces over other sampler columns, e.g. \"region == 'EU'\".",
    )


class CategorySamplerColumn(_SamplerColumnBase):
    """Sampler column: category."""

    sampler_type: Literal["category"] = Field(description="Sample from a list of values.")
    params: CategoryParams = Field(description="Values and optional weights.")
    conditional_params: dict[str, CategoryParams] = _conditional(CategoryParams)


class SubcategorySamplerColumn(_SamplerColumnBase):
    """Sampler column: subcategory."""

    sampler_type: Literal["subcategory"] = Field(description="Sample per value of a parent category column.")
    params: SubcategoryParams = Field(description="Parent column and values per parent value.")
    conditional_params: dict[str, SubcategoryParams] = _conditional(SubcategoryParams)


class UniformSamplerColumn(_SamplerColumnBase):
    """Sampler column: uniform."""

    sampler_type: Literal["uniform"] = Field(description="Continuous uniform distribution.")
    params: UniformParams = Field(description="Bounds and rounding.")
    conditional_params: dict[str, UniformParams] = _conditional(UniformParams)


class GaussianSamplerColumn(_SamplerColumnBase):
    """Sampler column: gaussian."""

    sampler_type: Literal["gaussian"] = Field(description="Normal distribution.")
    params: GaussianParams = Field(description="Mean, standard deviation and rounding.")
    conditional_params: dict[str, GaussianParams] = _conditional(GaussianParams)


class BernoulliSamplerColumn(_SamplerColumnBase):
    """Sampler column: bernoulli."""

    sampler_type: Literal["bernoulli"] = Field(description="0 or 1 with probability p.")
    params: BernoulliParams = Field(description="Probability of 1.")
    conditional_params: dict[str, BernoulliParams] = _conditional(BernoulliParams)


class BernoulliMixtureSamplerColumn(_SamplerColumnBase):
    """Sampler column: bernoulli_mixture."""

    sampler_type: Literal["bernoulli_mixture"] = Field(description="0, or a draw from a distribution.")
    params: BernoulliMixtureParams = Field(description="Mixture probability and distribution.")
    conditional_params: dict[str, BernoulliMixtureParams] = _conditional(BernoulliMixtureParams)


class BinomialSamplerColumn(_SamplerColumnBase):
    """Sampler column: binomial."""

    sampler_type: Literal["binomial"] = Field(description="Successes in n trials.")
    params: BinomialParams = Field(description="Trials and success probability.")
    conditional_params: dict[str, BinomialParams] = _conditional(BinomialParams)


class PoissonSamplerColumn(_SamplerColumnBase):
    """Sampler column: poisson."""

    sampler_type: Literal["poisson"] = Field(description="Poisson counts.")
    params: PoissonParams = Field(description="Mean.")
    conditional_params: dict[str, PoissonParams] = _conditional(PoissonParams)


class ScipySamplerColumn(_SamplerColumnBase):
    """Sampler column: scipy."""

    sampler_type: Literal["scipy"] = Field(description="Any scipy.stats distribution.")
    params: ScipyParams = Field(description="Distribution name and parameters.")
    conditional_params: dict[str, ScipyParams] = _conditional(ScipyParams)


class DatetimeSamplerColumn(_SamplerColumnBase):
    """Sampler column: datetime."""

    sampler_type: Literal["datetime"] = Field(description="Uniform datetimes in a range.")
    params: DatetimeParams = Field(description="Range and unit.")
    conditional_params: dict[str, DatetimeParams] = _conditional(DatetimeParams)


class TimedeltaSamplerColumn(_SamplerColumnBase):
    """Sampler column: timedelta."""

    sampler_type: Literal["timedelta"] = Field(description="A datetime column plus a random offset.")
    params: TimedeltaParams = Field(description="Offset range, unit and reference column.")
    conditional_params: dict[str, TimedeltaParams] = _conditional(TimedeltaParams)


class UuidSamplerColumn(_SamplerColumnBase):
    """Sampler column: uuid."""

    sampler_type: Literal["uuid"] = Field(description="Random UUIDs.")
    params: UuidParams = Field(default_factory=UuidParams, description="Prefix and format.")
    conditional_params: dict[str, UuidParams] = _conditional(UuidParams)


class PersonSamplerColumn(_SamplerColumnBase):
    """Sampler column: person."""

    sampler_type: Literal["person"] = Field(description="People from a managed persona dataset.")
    params: PersonParams = Field(default_factory=PersonParams, description="Locale and filters.")
    conditional_params: dict[str, PersonParams] = _conditional(PersonParams)


class PersonFromFakerSamplerColumn(_SamplerColumnBase):
    """Sampler column: person_from_faker."""

    sampler_type: Literal["person_from_faker"] = Field(description="People synthesised by Faker.")
    params: PersonFromFakerParams = Field(default_factory=PersonFromFakerParams, description="Locale and attributes.")
    conditional_params: dict[str, PersonFromFakerParams] = _conditional(PersonFromFakerParams)


SAMPLER_COLUMN_CLASSES: tuple[type[_SamplerColumnBase], ...] = (
    CategorySamplerColumn,
    SubcategorySamplerColumn,
    UniformSamplerColumn,
    GaussianSamplerColumn,
    BernoulliSamplerColumn,
    BernoulliMixtureSamplerColumn,
    BinomialSamplerColumn,
    PoissonSamplerColumn,
    ScipySamplerColumn,
    DatetimeSamplerColumn,
    TimedeltaSamplerColumn,
    UuidSamplerColumn,
    PersonSamplerColumn,
    PersonFromFakerSamplerColumn,
)

SamplerColumn = Annotated[
    CategorySamplerColumn
    | SubcategorySamplerColumn
    | UniformSamplerColumn
    | GaussianSamplerColumn
    | BernoulliSamplerColumn
    | BernoulliMixtureSamplerColumn
    | BinomialSamplerColumn
    | PoissonSamplerColumn
    | ScipySamplerColumn
    | DatetimeSamplerColumn
    | TimedeltaSamplerColumn
    | UuidSamplerColumn
    | PersonSamplerColumn
    | PersonFromFakerSamplerColumn,
    Field(discriminator="sampler_type"),
]
