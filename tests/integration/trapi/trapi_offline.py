"""Offline TRAPI 1.6 validation for the tests (reasoner-validator 6.0 and bmt, nothing fetched); queries.

The validator reads the vendored TRAPI 1.6 schema (tests/resources/trapi; its name must end in
``_1.6.0.yaml``), skips its reachability check of the standards site, and builds its Biolink Toolkit from
the biolink-model package (kg.translator.biolink.toolkit) instead of fetching one: nothing leaves the machine.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kg.translator.biolink import toolkit
from tests.conftest import RESOURCES

SCHEMA = RESOURCES / "trapi" / "TranslatorReasonerAPI_1.6.0.yaml"
PROBLEM = "application/problem+json"
Validate = Callable[[dict[str, Any]], dict[str, Any]]


@contextmanager
def offline_validation() -> Iterator[Validate]:
    """Within it, reasoner-validator works offline; yields a check of a TRAPI Response (messages by level)."""
    import reasoner_validator.biolink as rv_biolink
    import reasoner_validator.biolink.ontology as rv_ontology
    import reasoner_validator.validator as rv_validator
    from reasoner_validator.trapi import TRAPISchemaValidator
    from reasoner_validator.validator import TRAPIResponseValidator

    with pytest.MonkeyPatch.context() as patch:
        for module in (rv_biolink, rv_ontology, rv_validator):
            patch.setattr(module, "get_biolink_model_toolkit", lambda biolink_version=None: toolkit())
        # the standards-site check (a GET to standards.ncats.io) runs once per process unless marked done
        patch.setattr(TRAPISchemaValidator, "_validation_metadata_checked", True)

        def check(response: dict[str, Any]) -> dict[str, Any]:
            validator = TRAPIResponseValidator(
                trapi_version=str(SCHEMA), biolink_version=toolkit().get_model_version()
            )
            validator.check_compliance_of_trapi_response(copy.deepcopy(response))
            messages: dict[str, Any] = validator.get_all_messages()["Validate TRAPI Response"][
                "Standards Test"
            ]
            return messages

        yield check


def one_hop(subject: str, predicate: str = "biolink:causes") -> dict[str, Any]:
    """A one-hop query: what of category PhenotypicFeature does ``subject`` ``predicate``?"""
    return {
        "message": {
            "query_graph": {
                "nodes": {"n0": {"ids": [subject]}, "n1": {"categories": ["biolink:PhenotypicFeature"]}},
                "edges": {"e0": {"subject": "n0", "object": "n1", "predicates": [predicate]}},
            }
        }
    }


def pathfinder(source: str, target: str, *constraints: list[str]) -> dict[str, Any]:
    """A pathfinder query from ``source`` to ``target``, one intermediate_categories constraint per list."""
    path: dict[str, Any] = {"subject": "n0", "object": "n1", "predicates": ["biolink:related_to"]}
    if constraints:
        path["constraints"] = [{"intermediate_categories": c} for c in constraints]
    return {
        "message": {
            "query_graph": {
                "nodes": {"n0": {"ids": [source]}, "n1": {"ids": [target]}},
                "paths": {"p0": path},
            }
        }
    }


def qualified(
    subject: str, *qualifier_sets: dict[str, str], predicate: str = "biolink:affects"
) -> dict[str, Any]:
    """A one-hop query from ``subject`` to anything, with one qualifier constraint per mapping given."""
    query = one_hop(subject, predicate)
    query["message"]["query_graph"]["nodes"]["n1"] = {}
    query["message"]["query_graph"]["edges"]["e0"]["qualifier_constraints"] = [
        {"qualifier_set": [{"qualifier_type_id": t, "qualifier_value": v} for t, v in qset.items()]}
        for qset in qualifier_sets
    ]
    return query
