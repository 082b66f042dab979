"""Generate a seeded, biomedical-shaped N-Triples graph joined to the shipped one, for the benchmark suite.

Genes, proteins, chemicals, phenotypes and diseases with skewed (Zipf-like) degrees, labels and
standard-looking IRIs (identifiers.org HGNC and UniProt forms, OBO CHEBI / HP / MONDO), linked by RO and
Biolink predicates; and cited causal links in mgkg's own vocabulary (mgkg:CausalLink nodes with cause,
signed effect, mechanism, citation, evidence type and summary) that run from the shipped graph's
hypomagnesemia through the generated layers into the shipped findings, so `/why` searches a bigger
network. The identifiers are synthetic (numbered from 9,000,000 up, far above real ones) and every label
starts with "synthetic". The same arguments always give the same bytes. The namespaces are the library's
(kg.model.vocab, kg.translator.biolink), so the generated graph speaks the vocabulary mgkg reads.

    python bench/generate.py --triples 100000 --out /tmp/g100k.nt
    python bench/generate.py --triples 2000000 --out /tmp/g2m.nt.gz
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, cast

from rdflib import RDF, RDFS

from kg.model.vocab import DCTERMS, ECO_AUTHOR_STATEMENT, ECO_CURATOR_INFERENCE, MGKG, MGKGID, OBO
from kg.translator.biolink import BIOLINK

RDF_TYPE: Final = str(RDF.type)
LABEL: Final = str(RDFS.label)
IDENTIFIER: Final = str(DCTERMS.identifier)
ECO: Final = (str(ECO_AUTHOR_STATEMENT), str(ECO_CURATOR_INFERENCE))

START: Final = f"{MGKGID}hypomagnesemia"
"""Where the generated causal layers begin (the shipped graph's start node)."""
FINDINGS: Final = tuple(
    f"{MGKGID}{name}"
    for name in ("hypocalcemia", "hypokalemia", "tetany", "seizure", "tremor", "muscle_weakness", "alkalosis")
)
"""Shipped findings the generated causal layers end in."""
SHIPPED_DOCUMENT: Final = f"{MGKGID}doc-chapter-hypomagnesemia"


@dataclass(frozen=True)
class Kind:
    """One kind of generated node: its IRI pattern, its classes and its share of the nodes."""

    name: str
    iri: str
    classes: tuple[str, ...]
    share: float


KINDS: Final = (
    Kind("gene", "https://identifiers.org/hgnc:{n}", (f"{BIOLINK}Gene", f"{MGKG}Entity"), 0.25),
    Kind("protein", "https://identifiers.org/uniprot:Q{n}", (f"{BIOLINK}Protein", f"{MGKG}Protein"), 0.25),
    Kind("chemical", f"{OBO}CHEBI_{{n}}", (f"{BIOLINK}ChemicalEntity", f"{MGKG}ChemicalEntity"), 0.2),
    Kind("phenotype", f"{OBO}HP_{{n}}", (f"{BIOLINK}PhenotypicFeature", f"{MGKG}ClinicalFinding"), 0.2),
    Kind("disease", f"{OBO}MONDO_{{n}}", (f"{BIOLINK}Disease", f"{MGKG}Disease"), 0.1),
)
"""The causal layers run in this order: gene -> protein -> chemical -> phenotype -> disease."""

PLAIN_EDGES: Final = (
    ("gene", f"{OBO}RO_0002205", "protein"),  # has gene product
    ("protein", f"{OBO}RO_0002436", "protein"),  # molecularly interacts with
    ("chemical", f"{OBO}RO_0002436", "protein"),
    ("gene", f"{BIOLINK}gene_associated_with_condition", "disease"),
    ("disease", f"{BIOLINK}has_phenotype", "phenotype"),
    ("chemical", f"{BIOLINK}affects", "gene"),
)


def zipf_picker(rng: random.Random, size: int, exponent: float = 0.9) -> Callable[[int], list[int]]:
    """A sampler of indexes in range(size) with Zipf-like weights (index 0 the hub), k at a time.

    >>> pick = zipf_picker(random.Random(1), 1000)
    >>> draws = pick(10000)
    >>> draws.count(0) > draws.count(999) * 20
    True
    """
    cumulative: list[float] = []
    total = 0.0
    for rank in range(size):
        total += 1.0 / (rank + 1) ** exponent
        cumulative.append(total)

    def pick(k: int) -> list[int]:
        return rng.choices(range(size), cum_weights=cumulative, k=k)

    return pick


def _iri(value: str) -> str:
    return f"<{value}>"


def _text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(triples: int, seed: int = 42, causal_share: float = 0.05) -> Iterator[str]:
    """Yield exactly ``triples`` distinct N-Triples lines (each ending in a newline), the same for a seed.

    About ``causal_share`` of them describe causal links (nine triples a link); the rest are nodes
    (classes and a label) and plain skewed edges.
    """
    rng = random.Random(seed)
    nodes_total = max(len(KINDS) * 4, triples // 30)
    links_total = max(8, int(triples * causal_share) // 9)
    citations_total = max(2, links_total // 20)
    mechanisms_total = max(2, links_total // 500)
    emitted = 0

    def line(s: str, p: str, o: str) -> str:
        nonlocal emitted
        emitted += 1
        return f"{_iri(s)} {_iri(p)} {o} .\n"

    members: dict[str, list[str]] = {}
    for kind in KINDS:
        count = max(4, int(nodes_total * kind.share))
        members[kind.name] = [kind.iri.format(n=9_000_000 + i) for i in range(count)]
    for kind in KINDS:
        for i, node in enumerate(members[kind.name]):
            for cls in kind.classes:
                yield line(node, RDF_TYPE, _iri(cls))
            yield line(node, LABEL, _text(f"synthetic {kind.name} {i}"))
    mechanisms = [f"{MGKGID}syn-mechanism-{i}" for i in range(mechanisms_total)]
    for i, mechanism in enumerate(mechanisms):
        yield line(mechanism, RDF_TYPE, _iri(f"{MGKG}Mechanism"))
        yield line(mechanism, LABEL, _text(f"synthetic mechanism {i}"))
    citations = [f"{MGKGID}syn-citation-{i}" for i in range(citations_total)]
    for i, citation in enumerate(citations):
        yield line(citation, RDF_TYPE, _iri(f"{MGKG}Citation"))
        yield line(citation, IDENTIFIER, _text(f"synthetic:{i}"))
        yield line(citation, f"{MGKG}section", _text(f"Synthetic section {i % 17}"))
        yield line(citation, f"{MGKG}sourceDocument", _iri(SHIPPED_DOCUMENT))
    yield from _causal_links(rng, members, mechanisms, citations, links_total, line)
    pickers = {kind.name: zipf_picker(rng, len(members[kind.name])) for kind in KINDS}
    seen: set[tuple[int, int, int]] = set()  # a skewed draw repeats edges; a graph holds each once
    while emitted < triples:
        batch = min(10_000, triples - emitted)
        edge_type = rng.randrange(len(PLAIN_EDGES))
        source_kind, predicate, target_kind = PLAIN_EDGES[edge_type]
        heads, tails = pickers[source_kind](batch), pickers[target_kind](batch)
        sources, targets = members[source_kind], members[target_kind]
        for head, tail in zip(heads, tails, strict=True):
            if (edge_type, head, tail) not in seen and emitted < triples:
                seen.add((edge_type, head, tail))
                yield line(sources[head], predicate, _iri(targets[-1 - tail]))


def _causal_links(
    rng: random.Random,
    members: dict[str, list[str]],
    mechanisms: list[str],
    citations: list[str],
    total: int,
    line: Callable[[str, str, str], str],
) -> Iterator[str]:
    """Cited causal links layer to layer, from the shipped start node into the shipped findings."""
    layers = [[START]] + [members[kind.name] for kind in KINDS] + [list(FINDINGS)]
    pickers = [zipf_picker(rng, len(layer)) for layer in layers]
    for i in range(total):
        step = i % (len(layers) - 1)
        cause = layers[step][pickers[step](1)[0]]
        effect = layers[step + 1][pickers[step + 1](1)[0]]
        link = f"{MGKGID}syn-link-{i}"
        sign = "positiveEffect" if rng.random() < 0.6 else "negativeEffect"
        yield line(link, RDF_TYPE, _iri(f"{MGKG}CausalLink"))
        yield line(link, LABEL, _text(f"synthetic link {i}"))
        yield line(link, f"{MGKG}cause", _iri(cause))
        yield line(link, f"{MGKG}{sign}", _iri(effect))
        yield line(link, f"{MGKG}mechanism", _iri(mechanisms[i % len(mechanisms)]))
        yield line(link, f"{MGKG}citation", _iri(citations[rng.randrange(len(citations))]))
        yield line(link, f"{MGKG}evidenceType", _iri(ECO[i % 7 == 0]))
        yield line(link, f"{MGKG}evidenceSummary", _text(f"Synthetic evidence for link {i}."))
        if i % 10 == 0:
            yield line(link, f"{MGKG}severity", _iri(f"{MGKG}{'severe' if i % 20 == 0 else 'mild'}"))


def write(path: Path, triples: int, seed: int = 42, causal_share: float = 0.05) -> int:
    """Write the graph to ``path`` (gzip when it ends in .gz); return the number of triples written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with (
        gzip.open(path, "wb", compresslevel=1) if path.suffix == ".gz" else path.open("wb") as raw,
        io.TextIOWrapper(cast("IO[bytes]", raw), encoding="utf-8", newline="\n") as out,
    ):
        chunk: list[str] = []
        for text in generate(triples, seed, causal_share):
            chunk.append(text)
            if len(chunk) == 50_000:
                out.write("".join(chunk))
                count += len(chunk)
                chunk.clear()
        out.write("".join(chunk))
        count += len(chunk)
    return count


def main(argv: list[str] | None = None) -> int:
    """Command line: write a generated graph of the requested size."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--triples", type=int, default=100_000, help="how many triples (exactly)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--causal-share", type=float, default=0.05, help="share of triples in causal links")
    parser.add_argument("--out", type=Path, required=True, help="output .nt or .nt.gz file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    count = write(args.out, args.triples, args.seed, args.causal_share)
    seconds = time.perf_counter() - started
    print(f"wrote {count} triples to {args.out} in {seconds:.1f} s ({count / seconds:,.0f} triples/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
