"""A patient case as the explainer takes it (frozen pydantic), and the reading rules it is interpreted by.

The rules are data (kg/facts/case-observations.toml): which graph node an observation is evidence of, the
severity phase it implies, and the bands that turn a number into a reading, each with its citation. The
model names the observations as the sources speak of them; it has no numbers of its own.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kg.errors import MgkgError
from kg.model.resources import facts_dir
from kg.model.types import Citation, Severity
from kg.model.vocab import MGKGID

RULES_FILE = "case-observations.toml"
"""The file of kg/facts that holds the reading rules."""

Loss = Literal["renal", "extra_renal", "indeterminate"]
"""Where an observation places the magnesium loss."""

Response = Literal["corrected", "no_response"]
"""How the patient answered a treatment."""

Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        """Refuse an unknown field by name, saying which fields are accepted (not only 'extra input')."""
        if isinstance(data, dict):
            unknown = sorted(str(k) for k in data if k not in cls.model_fields)
            if unknown:
                raise ValueError(
                    f"unknown field(s) {', '.join(unknown)}; accepted: {', '.join(cls.model_fields)}"
                )
        return data


class Labs(_Input):
    """Laboratory observations, in the categories the sources use (they give no numeric cut-offs except
    for FE_Mg, whose band is data); a field left out is not known."""

    serum_mg: Literal["low", "normal"] | None = Field(default=None, description="Serum (total) magnesium.")
    ionized_mg: Literal["low", "normal"] | None = Field(default=None, description="Ionized magnesium.")
    urinary_mg: Literal["low", "high"] | None = Field(default=None, description="Urinary magnesium.")
    fe_mg_percent: float | None = Field(  # strict: "5" is refused, not coerced (nor 0 for false below)
        default=None,
        strict=True,
        description="Fractional excretion of magnesium, in percent of the filtered load.",
        json_schema_extra=lambda schema: _declare_band(schema, "fe_mg_percent"),
    )
    urine_mg_24h: Literal["low", "high"] | None = Field(default=None, description="24-hour urine magnesium.")
    pth: Literal["low", "normal", "high"] | None = Field(default=None, description="Parathyroid hormone.")
    serum_ca: Literal["low", "normal", "high"] | None = Field(default=None, description="Serum calcium.")
    serum_k: Literal["low", "normal", "high"] | None = Field(default=None, description="Serum potassium.")
    alkalosis: bool | None = Field(default=None, strict=True, description="Whether the patient is alkalotic.")

    @field_validator("fe_mg_percent")
    @classmethod
    def _in_range(cls, value: float | None, info: Any) -> float | None:
        """Refuse a number outside the physiological range the rules give (never used silently)."""
        if value is None:
            return value
        band = load_case_rules().band(info.field_name)
        if band is not None and not band.minimum <= value <= band.maximum:
            raise ValueError(
                f"{value} is outside {band.minimum:g}-{band.maximum:g} ({band.range_note});"
                " give the percentage"
            )
        return value


def _declare_band(schema: dict[str, Any], field: str) -> None:
    """Write a lab's physiological range (the rules' band, which the validator enforces) into the JSON
    Schema as minimum and maximum, so that clients generating requests from the OpenAPI document know it
    (a number outside it is a 422)."""
    band = load_case_rules().band(field)
    if band is not None:
        for branch in schema.get("anyOf", [schema]):  # the number branch of "number or null"
            if branch.get("type") == "number":
                branch["minimum"], branch["maximum"] = band.minimum, band.maximum


class Treatment(_Input):
    """A treatment tried and how the patient responded to it."""

    intervention: Name = Field(
        description="An intervention of the graph: 'calcium infusion', 'potassium "
        "replacement', 'magnesium replacement', ...",
        examples=["calcium infusion"],
    )
    response: Response = Field(description="corrected, or no_response (the finding persisted).")


class Case(_Input):
    """One patient: findings present and absent, labs, exposures and treatments tried."""

    findings: tuple[Name, ...] = Field(
        default=(),
        max_length=50,
        description="Findings present: any name /why accepts.",
        examples=[["cramps"]],
    )
    absent: tuple[Name, ...] = Field(default=(), max_length=50, description="Findings known to be absent.")
    labs: Labs = Field(default_factory=Labs, description="Laboratory observations.")
    exposures: tuple[Name, ...] = Field(
        default=(),
        max_length=20,
        description="Exposures and history: drugs, disorders, loss routes (cisplatin, aminoglycosides, "
        "diuretics, chronic diarrhea, poor intake, Gitelman syndrome).",
    )
    treatments: tuple[Treatment, ...] = Field(default=(), max_length=20, description="Treatments tried.")


class CaseInputError(MgkgError):
    """A case names something the explainer cannot interpret: which field, and what it accepts."""

    def __init__(
        self, field: str, detail: str, accepted: tuple[str, ...] = (), *, unknown: bool = False
    ) -> None:
        self.field, self.accepted = field, accepted
        self.unknown = unknown
        """The name matches no node (404, as /why), rather than a node of the wrong kind (422)."""
        hint = f" Accepted: {', '.join(accepted)}." if accepted else ""
        super().__init__(f"{field}: {detail}.{hint}")


@dataclass(frozen=True)
class Reading:
    """What one observation (a field at a value, or in a band) means in the graph, with its citations."""

    field: str
    value: str
    text: str
    citations: tuple[Citation, ...] = ()
    present: tuple[str, ...] = ()
    """IRIs of the nodes the observation shows present."""
    absent: tuple[str, ...] = ()
    source: str | None = None
    """The node the case is explained from instead of the default, when this reading holds."""
    loss: Loss | None = None
    severity: Severity | None = None
    when: tuple[tuple[str, str], ...] = ()
    """Other lab fields and the values they must have for the reading to hold."""
    requires_findings: bool = False
    """Holds only when the case has other findings to explain (a normal level alone says nothing)."""
    curator_inference: bool = False
    explains: bool = False
    """What it shows present is a condition that explains other findings (tried as a source of paths for
    the findings the case's source does not explain), not a finding to be explained itself."""


@dataclass(frozen=True)
class Band:
    """The bands of a numeric observation, from the sources: below, inside or above [lower, upper]."""

    field: str
    label: str
    minimum: float
    maximum: float
    range_note: str
    lower: float
    upper: float
    citations: tuple[Citation, ...]
    below: Reading
    inside: Reading
    above: Reading

    def read(self, value: float) -> Reading:
        """The reading of ``value``: above ``upper`` and below ``lower`` are decided, the band itself is
        open (the source says 'about'), so a value on either edge is inside.

        >>> band = load_case_rules().band("fe_mg_percent")
        >>> [band.read(v).loss for v in (band.lower - 0.1, band.lower, band.upper, band.upper + 0.1)]
        ['extra_renal', 'indeterminate', 'indeterminate', 'renal']
        """
        if value > self.upper:
            return self.above
        if value < self.lower:
            return self.below
        return self.inside


@dataclass(frozen=True)
class TreatmentRule:
    """What a treatment that failed shows: e.g. hypocalcemia that did not answer calcium is refractory."""

    intervention: str
    response: str
    when_present: str
    present: tuple[str, ...]
    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class CaseRules:
    """Every reading rule of kg/facts/case-observations.toml, keyed for lookup; read once."""

    default_source: str
    readings: tuple[Reading, ...]
    bands: tuple[Band, ...]
    treatments: tuple[TreatmentRule, ...]
    alone: Mapping[str, str] = field(default_factory=dict)
    """Intervention -> the 'alone' intervention recommendations caution against when no magnesium is given."""

    def band(self, field: str) -> Band | None:
        """The bands of a numeric field, or None when it has none."""
        return next((b for b in self.bands if b.field == field), None)


def _iri(curie: str) -> str:
    """The IRI of a ``mgkgid:`` CURIE of the rules file.

    >>> _iri("mgkgid:hypocalcemia").rsplit("/", 1)[-1]
    'hypocalcemia'
    """
    prefix, _, local = curie.partition(":")
    if prefix != "mgkgid" or not local:
        raise ValueError(f"{RULES_FILE}: {curie!r} is not a mgkgid: CURIE")
    return str(MGKGID[local])


def _citations(raw: list[dict[str, str]]) -> tuple[Citation, ...]:
    return tuple(Citation(identifier=c["identifier"], section=c.get("section")) for c in raw)


def _reading(field: str, value: str, raw: dict[str, Any], citations: tuple[Citation, ...] = ()) -> Reading:
    return Reading(
        field=field,
        value=value,
        text=raw["text"],
        citations=_citations(raw["citations"]) if "citations" in raw else citations,
        present=tuple(_iri(c) for c in raw.get("present", ())),
        absent=tuple(_iri(c) for c in raw.get("absent", ())),
        source=_iri(raw["source"]) if "source" in raw else None,
        loss=raw.get("loss"),
        severity=raw.get("severity"),
        when=tuple(sorted(raw.get("when", {}).items())),
        requires_findings=bool(raw.get("requires_findings", False)),
        curator_inference=bool(raw.get("curator_inference", False)),
        explains=bool(raw.get("explains", False)),
    )


@cache
def load_case_rules() -> CaseRules:
    """Read the reading rules (a small TOML file) once per process."""
    data = tomllib.loads((facts_dir() / RULES_FILE).read_text(encoding="utf-8"))
    bands = []
    for raw in data.get("band", ()):
        citations = _citations(raw["citations"])
        parts = {p: _reading(raw["field"], p, raw[p], citations) for p in ("below", "inside", "above")}
        bands.append(
            Band(
                field=raw["field"],
                label=raw["label"],
                minimum=float(raw["minimum"]),
                maximum=float(raw["maximum"]),
                range_note=raw["range_note"],
                lower=float(raw["lower"]),
                upper=float(raw["upper"]),
                citations=citations,
                **parts,
            )
        )
    return CaseRules(
        default_source=_iri(data["source"]["default"]),
        readings=tuple(_reading(r["field"], str(r["value"]).lower(), r) for r in data.get("reading", ())),
        bands=tuple(bands),
        treatments=tuple(
            TreatmentRule(
                intervention=_iri(t["intervention"]),
                response=t["response"],
                when_present=_iri(t["when_present"]),
                present=tuple(_iri(c) for c in t["present"]),
                text=t["text"],
                citations=_citations(t["citations"]),
            )
            for t in data.get("treatment", ())
        ),
        alone={_iri(k): _iri(v) for k, v in data.get("alone", {}).items()},
    )
