"""Closed vocabularies of the Data Designer format (data-designer-config 0.9.x)."""

from __future__ import annotations

from typing import Literal

CodeLang = Literal[
    "bash", "c", "cobol", "cpp", "csharp", "go", "java", "javascript", "kotlin", "python", "ruby",
    "rust", "scala", "swift", "typescript",
    "sql:sqlite", "sql:tsql", "sql:bigquery", "sql:mysql", "sql:postgres", "sql:ansi",
]  # fmt: skip

ValidatorCodeLang = Literal["python", "sql:sqlite", "sql:tsql", "sql:bigquery", "sql:mysql", "sql:postgres", "sql:ansi"]

#: Locales with a managed Nemotron-Personas dataset (0.9.6 adds en_GB and de_DE).
PERSONA_LOCALES: tuple[str, ...] = (
    "en_US", "en_IN", "en_SG", "en_GB", "de_DE", "fr_FR", "hi_Deva_IN", "hi_Latn_IN", "ja_JP", "ko_KR", "pt_BR",
)  # fmt: skip

#: Faker locales accepted by the person_from_faker sampler.
FAKER_LOCALES: tuple[str, ...] = (
    "ar_AA", "ar_AE", "ar_BH", "ar_EG", "ar_JO", "ar_PS", "ar_SA", "az_AZ", "bg_BG", "bn_BD", "bs_BA",
    "cs_CZ", "da_DK", "de", "de_AT", "de_CH", "de_DE", "dk_DK", "el_CY", "el_GR", "en", "en_AU", "en_BD",
    "en_CA", "en_GB", "en_IE", "en_IN", "en_NZ", "en_PH", "en_TH", "en_US", "es", "es_AR", "es_CA", "es_CL",
    "es_CO", "es_ES", "es_MX", "et_EE", "fa_IR", "fi_FI", "fil_PH", "fr_BE", "fr_CA", "fr_CH", "fr_FR",
    "ga_IE", "he_IL", "hi_IN", "hr_HR", "hu_HU", "hy_AM", "id_ID", "it_CH", "it_IT", "ja_JP", "ka_GE",
    "ko_KR", "la", "lb_LU", "lt_LT", "lv_LV", "mt_MT", "ne_NP", "nl_BE", "nl_NL", "no_NO", "or_IN", "pl_PL",
    "pt_BR", "pt_PT", "ro_RO", "ru_RU", "sk_SK", "sl_SI", "sq_AL", "sv_SE", "ta_IN", "th", "th_TH", "tl_PH",
    "tr_TR", "tw_GH", "uk_UA", "vi_VN", "zh_CN", "zh_TW", "zu_ZA",
)  # fmt: skip

MIN_AGE = 0
MAX_AGE = 114

SAMPLER_TYPES: tuple[str, ...] = (
    "category", "subcategory", "uniform", "gaussian", "bernoulli", "bernoulli_mixture", "binomial",
    "poisson", "scipy", "datetime", "timedelta", "uuid", "person", "person_from_faker",
)  # fmt: skip

#: Samplers whose ``convert_to`` must be one of float/int/str.
NUMERIC_OR_CATEGORICAL_SAMPLERS: frozenset[str] = frozenset(
    {"category", "subcategory", "uniform", "gaussian", "bernoulli", "bernoulli_mixture", "binomial", "poisson", "scipy"}
)
