"""Read a case against the graph: resolve its names, apply the reading rules, gather what is present."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kg.causal.case_model import Case, CaseInputError, CaseRules, Reading, Response, load_case_rules
from kg.causal.case_types import Observation
from kg.causal.causes import cause_kind
from kg.causal.network import CausalNetwork
from kg.errors import UnknownNodeError
from kg.model.types import NodeRef, Severity
from kg.model.vocab import MGKG

log = logging.getLogger(__name__)


@dataclass
class CaseReading:
    """A case resolved to graph nodes (IRIs), with every observation and what it showed."""

    source: str
    observations: list[Observation] = field(default_factory=list)
    present: dict[str, list[str]] = field(default_factory=dict)
    """Node IRI -> the case fields that show it present, in the order given."""
    absent: dict[str, list[str]] = field(default_factory=dict)
    severity: dict[Severity, list[str]] = field(default_factory=dict)
    """Phase -> the fields that imply it."""
    loss: list[tuple[str, Reading]] = field(default_factory=list)
    """(field, reading) of each observation that places the loss."""
    exposures: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    """Nodes shown present by a reading that explains (alkalosis): sources of paths, not findings."""
    treatments: list[tuple[str, Response]] = field(default_factory=list)
    """(intervention IRI, response) of each treatment tried."""


def read_case(network: CausalNetwork, case: Case, rules: CaseRules) -> CaseReading:
    """Resolve every name of ``case`` and apply the reading rules; raise CaseInputError naming the field
    (and what it accepts) for anything that cannot be interpreted."""
    result = CaseReading(source=rules.default_source)
    for i, name in enumerate(case.findings):
        result.present.setdefault(_finding(network, f"findings[{i}]", name), []).append("findings")
    for i, name in enumerate(case.absent):
        result.absent.setdefault(_finding(network, f"absent[{i}]", name), []).append("absent")
    result.exposures = [_exposure(network, f"exposures[{i}]", name) for i, name in enumerate(case.exposures)]
    result.treatments = [
        (_intervention(network, f"treatments[{i}].intervention", t.intervention), t.response)
        for i, t in enumerate(case.treatments)
    ]
    has_findings = bool(case.findings) or any(
        v == "low" for v in (case.labs.serum_ca, case.labs.serum_k, case.labs.pth)
    )
    labs = case.labs.model_dump(exclude_none=True)
    text = {k: str(v).lower() for k, v in labs.items()}
    for name, value in labs.items():
        band = rules.band(name)
        candidates = [band.read(float(value))] if band is not None else _readings(rules, name, text[name])
        for reading in candidates:
            if all(text.get(k) == v for k, v in reading.when) and (
                has_findings or not reading.requires_findings
            ):
                _apply(network, result, f"labs.{name}", str(value), reading)
    for (intervention, response), index in zip(result.treatments, range(len(case.treatments)), strict=True):
        for rule in rules.treatments:
            if (rule.intervention, rule.response) == (
                intervention,
                response,
            ) and rule.when_present in result.present:
                reading = Reading(
                    field="treatments",
                    value=response,
                    text=rule.text,
                    citations=rule.citations,
                    present=rule.present,
                )
                _apply(
                    network,
                    result,
                    f"treatments[{index}]",
                    f"{network.node(intervention).label}: {response}",
                    reading,
                )
    for iri in result.present:
        if iri in result.absent:
            raise CaseInputError(
                "absent",
                f"{network.node(iri).label!r} is both present ({', '.join(result.present[iri])}) and absent",
            )
    return result


def _readings(rules: CaseRules, name: str, value: str) -> list[Reading]:
    return [r for r in rules.readings if r.field == name and r.value == value]


def _apply(network: CausalNetwork, result: CaseReading, where: str, value: str, reading: Reading) -> None:
    """Record one reading: what it shows present and absent, its phase, its loss, the source it sets."""
    for iri in reading.present:
        result.present.setdefault(iri, []).append(where)
    for iri in reading.absent:
        result.absent.setdefault(iri, []).append(where)
    if reading.severity is not None:
        given = "".join(f" with labs.{k}={v}" for k, v in reading.when)  # PTH is read against the calcium
        result.severity.setdefault(reading.severity, []).append(where + given)
    if reading.loss is not None:
        result.loss.append((where, reading))
    if reading.source is not None:
        result.source = reading.source
    if reading.explains:
        result.conditions += [iri for iri in reading.present if iri not in result.conditions]
    log.debug("case %s=%s read as %s", where, value, reading.text)
    result.observations.append(
        Observation(
            field=where,
            value=value,
            reading=reading.text,
            present=tuple(network.node(iri) for iri in reading.present),
            absent=tuple(network.node(iri) for iri in reading.absent),
            loss=reading.loss,
            severity=reading.severity,
            curator_inference=reading.curator_inference,
            citations=reading.citations,
        )
    )


def _finding(network: CausalNetwork, where: str, name: str) -> str:
    try:
        return network.resolve(name, "finding")
    except UnknownNodeError as error:
        raise CaseInputError(
            where, f"unknown finding {name!r}", tuple(error.suggestions), unknown=True
        ) from None


def _exposure(network: CausalNetwork, where: str, name: str) -> str:
    accepted = tuple(sorted(n.label for n in _nodes(network) if cause_kind(network, n.iri) is not None))
    try:
        iri = network.resolve(name, "exposure")
    except UnknownNodeError:
        raise CaseInputError(where, f"unknown exposure {name!r}", accepted, unknown=True) from None
    if cause_kind(network, iri) is None:
        raise CaseInputError(where, f"{network.node(iri).label!r} is not an exposure or cause", accepted)
    return iri


def _intervention(network: CausalNetwork, where: str, name: str) -> str:
    cls = str(MGKG.Intervention)
    known = [n.iri for n in _nodes(network)] + [t.intervention for t in load_case_rules().treatments]
    accepted = tuple(sorted({network.node(iri).label for iri in known if network.is_a(iri, cls)}))
    try:
        iri = network.resolve(name, "intervention")
    except UnknownNodeError:
        raise CaseInputError(where, f"unknown intervention {name!r}", accepted, unknown=True) from None
    if not network.is_a(iri, cls):
        raise CaseInputError(where, f"{network.node(iri).label!r} is not an intervention", accepted)
    return iri


def _nodes(network: CausalNetwork) -> list[NodeRef]:
    return [network.node(str(iri)) for iri in network.graph.nodes]
