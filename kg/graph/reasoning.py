"""OWL 2 RL materialization into the inferred graph (owlrl or the fast rules engine), cached on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from importlib.metadata import version as distribution_version
from pathlib import Path
from typing import Final, Literal, get_args

import platformdirs
from pydantic import BaseModel, ConfigDict, Field
from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, URIRef
from rdflib import Literal as RDFLiteral
from rdflib.exceptions import ParserError
from rdflib.term import Node

from kg.graph.asserted import AssertedGraph
from kg.model.vocab import VERSION

__all__ = [
    "ENGINES",
    "CacheInfo",
    "CacheState",
    "Engine",
    "cache_key",
    "default_cache_dir",
    "is_noise",
    "load_or_materialize",
    "materialize",
    "resolve_engine",
]

logger = logging.getLogger(__name__)

CACHE_FORMAT: Final = "1"
"""Bumped whenever what materialize() keeps or the cache file layout changes, so old files go stale."""
Engine = Literal["owlrl", "fast"]
"""owlrl: the reference OWL 2 RL closure (slow, superlinear). fast: kg.graph.rules (the ontology's only)."""
ENGINES: Final[tuple[str, ...]] = get_args(Engine)
RULES_VERSION: Final = "1"
"""Bumped whenever kg.graph.rules changes what it derives, so caches made by the fast engine go stale."""
_CACHE_GLOB: Final = "inferred-*.nt"
_CACHE_KEEP: Final = 4
_HEADER: Final = "# mgkg inferred graph"

# ------------------------------------------------------------------------------------------------
# Materialization
# ------------------------------------------------------------------------------------------------

_REFLEXIVE_NOISE: Final = frozenset(
    {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf}
)
_TRIVIAL_CLASSES: Final = frozenset({OWL.Thing, OWL.Nothing, RDFS.Resource})
_BUILTIN_NAMESPACES: Final = (str(RDF), str(RDFS), str(OWL), str(XSD))


def is_noise(triple: tuple[Node, Node, Node]) -> bool:
    """Say whether an inferred triple is axiomatic noise that materialize() drops.

    Dropped, because no query is helped by them and some cannot be stored:
    triples whose subject is a literal (generalized RDF: owlrl's ``"x" owl:sameAs "x"`` and
    ``"0.5"^^xsd:decimal a xsd:decimal``, not valid RDF, cannot be written as N-Triples);
    reflexive sameAs / equivalentClass / equivalentProperty / subClassOf / subPropertyOf (true of
    everything); anything naming owl:Thing, owl:Nothing or rdfs:Resource (``x a owl:Thing``,
    ``C rdfs:subClassOf owl:Thing``, ``owl:Nothing rdfs:subClassOf C``, ``p rdfs:domain owl:Thing``);
    statements about the built-in RDF/RDFS/OWL/XSD vocabulary (``rdfs:label a owl:AnnotationProperty``,
    ``xsd:short a rdfs:Datatype``); and triples with a blank node, which only restate OWL restriction
    and list structure (``link a [owl:hasValue mgkg:increase]``, already said by ``mgkg:polarity``)
    and whose node identity would not survive a round trip through the cache file.

    >>> from rdflib import Literal
    >>> from kg.model.vocab import MGKG, MGKGID
    >>> is_noise((MGKGID.a, OWL.sameAs, MGKGID.a)), is_noise((MGKGID.a, RDF.type, OWL.Thing))
    (True, True)
    >>> is_noise((Literal("x"), OWL.sameAs, Literal("x"))), is_noise((XSD.short, RDF.type, RDFS.Datatype))
    (True, True)
    >>> is_noise((MGKGID.a, MGKG.causallyUpstreamOf, MGKGID.b))
    False
    >>> is_noise((MGKG.Receptor, RDFS.subClassOf, MGKG.Node))
    False
    """
    subject, predicate, obj = triple
    if isinstance(subject, (RDFLiteral, BNode)) or isinstance(obj, BNode):
        return True
    if subject == obj and predicate in _REFLEXIVE_NOISE:
        return True
    if subject in _TRIVIAL_CLASSES or obj in _TRIVIAL_CLASSES:
        return True
    return isinstance(subject, URIRef) and str(subject).startswith(_BUILTIN_NAMESPACES)


DEFAULT_ENGINE: Final[Engine] = "owlrl"
"""The engine used when the caller names none (the CLI and the api Settings default to it too)."""


def resolve_engine(engine: str | None = None) -> Engine:
    """The engine to use: ``engine``, else owlrl; raise ValueError on an unknown name.

    The caller (the CLI, the api Settings) reads any setting such as MGKG_REASONER and passes it here.

    >>> resolve_engine("fast"), resolve_engine(None)
    ('fast', 'owlrl')
    """
    name = engine or DEFAULT_ENGINE
    if name == "owlrl":
        return "owlrl"
    if name == "fast":
        return "fast"
    raise ValueError(f"Unknown inference engine {name!r}: choose one of {', '.join(ENGINES)}.")


def materialize(asserted: Graph, engine: Engine = "owlrl") -> Graph:
    """Run OWL 2 RL inference over ``asserted``; return only the useful new triples.

    ``engine="owlrl"`` runs owlrl's full closure on a copy (the reference); ``engine="fast"`` runs
    kg.graph.rules.infer, the rules the ontology uses, in time linear in the data (plus the size of the
    transitive closure); both give the same triples on the shipped graph (tests/unit/causal/test_scale.py).
    The input is never mutated. Kept: every derived causes / increases / decreases /
    causallyUpstreamOf triple and its RO super-relations, mgkg:polarity, mgkg:effect, mgkg:causeOf,
    mgkg:hasState, mgkg:context, class memberships (PositiveCausalLink, superclasses of node kinds) and
    the closed class and property hierarchy. Dropped: what :func:`is_noise` describes.
    """
    inferred = Graph()
    for prefix, namespace in asserted.namespaces():
        inferred.bind(prefix, namespace, override=False)
    if engine == "fast":
        from kg.graph.rules import infer  # deferred: a cache hit never needs it

        new, stats = infer(lambda predicate: asserted.triples((None, predicate, None)))
        for triple in new:
            if not is_noise(triple):
                inferred.add(triple)
        logger.debug("fast engine: %d inferred triples (%s)", len(inferred), stats)
        return inferred
    import owlrl  # deferred: importing the reasoner is not free and a cache hit never needs it

    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    dropped = 0
    for triple in closure:
        if triple in asserted:
            continue
        if is_noise(triple):
            dropped += 1
        else:
            inferred.add(triple)
    logger.debug("materialized %d inferred triples, dropped %d axiomatic ones", len(inferred), dropped)
    return inferred


# ------------------------------------------------------------------------------------------------
# The disk cache
# ------------------------------------------------------------------------------------------------


CacheState = Literal["hit", "miss", "none"]
"""hit: read from the cache file; miss: reasoned (and written when it could be); none: no cache at all."""


class CacheInfo(BaseModel):
    """How the inferred graph was obtained: from the cache file (hit), by reasoning (miss), or from a store
    that holds it (none: oxigraph: and sparql: stores keep what `mgkg load` inferred, and have no cache).

    ``key``, ``engine`` and ``path`` are only set when there is a cache: a store's are None, never made up.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: CacheState = Field(description="hit, miss, or none (the store holds the inferred graph).")
    key: str | None = Field(
        description="SHA-256 of the input files (names and bytes), the engine and the versions; None "
        "without a cache."
    )
    engine: Engine | None = Field(
        default="owlrl", description="The inference engine that made the graph; None when a store holds it."
    )
    path: Path | None = Field(description="The cache file for this key; None without a cache.")
    seconds: float = Field(description="Time spent reading the cache or reasoning and writing it.")
    triples: int = Field(description="The number of inferred triples.")
    written: bool = Field(default=False, description="True when a miss stored its result in the cache.")

    @property
    def hit(self) -> bool:
        """True when the inferred graph was read from the cache file, without reasoning."""
        return self.state == "hit"


class _CorruptCacheError(Exception):
    """A cache file exists but cannot be trusted."""


def default_cache_dir() -> Path:
    """The documented default cache folder: the user cache folder of platformdirs (``~/.cache/mgkg`` on
    Linux, or under $XDG_CACHE_HOME as platformdirs reads it).

    Callers that honour a setting (MGKG_CACHE_DIR through the api Settings, ``--cache-dir`` in the CLI)
    pass their folder to :func:`load_or_materialize`; this module reads no environment variable itself.
    """
    return Path(platformdirs.user_cache_dir("mgkg"))


def cache_key(files: Sequence[Path], engine: Engine = "owlrl") -> str:
    """Hash every input file's name and bytes, in order, with the cache format, the engine and its version."""
    digest = hashlib.sha256()
    tool = f"owlrl {distribution_version('owlrl')}" if engine == "owlrl" else f"rules {RULES_VERSION}"
    for part in (f"format {CACHE_FORMAT}", f"mgkg {VERSION}", f"engine {engine}", tool):
        digest.update(part.encode() + b"\0")
    for path in files:
        data = Path(path).read_bytes()
        digest.update(f"{Path(path).name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _read_cache(path: Path, key: str) -> Graph:
    """Read a cache file, checking its header (key, triple count, SHA-256 of the body)."""
    header, _, body = path.read_bytes().partition(b"\n")
    fields = dict(part.split("=", 1) for part in header.decode("utf-8", "replace").split() if "=" in part)
    if not header.startswith(_HEADER.encode()) or fields.get("key") != key:
        raise _CorruptCacheError("bad header")
    if fields.get("sha256") != hashlib.sha256(body).hexdigest():
        raise _CorruptCacheError("checksum mismatch (truncated or edited)")
    graph = Graph()
    try:
        graph.parse(data=body.decode("utf-8"), format="nt")
    except (ParserError, ValueError) as error:
        raise _CorruptCacheError(f"unparsable: {error}") from error
    if str(len(graph)) != fields.get("triples"):
        raise _CorruptCacheError("triple count mismatch")
    return graph


def _write_cache(path: Path, key: str, graph: Graph) -> None:
    """Write the graph atomically (temp file in the same folder, then os.replace) and prune old files."""
    lines = sorted(line for line in graph.serialize(format="nt", encoding="utf-8").splitlines() if line)
    body = b"\n".join(lines) + b"\n"
    header = f"{_HEADER} key={key} triples={len(graph)} sha256={hashlib.sha256(body).hexdigest()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".inferred-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(header.encode() + body)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    stale = sorted(path.parent.glob(_CACHE_GLOB), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stale[_CACHE_KEEP:]:
        old.unlink(missing_ok=True)


def _other_cache_files(path: Path) -> list[str]:
    """The names of cache files in ``path``'s folder made for other inputs or another engine (stale)."""
    if not path.parent.is_dir():
        return []
    return sorted(other.name for other in path.parent.glob(_CACHE_GLOB) if other != path)


def load_or_materialize(
    asserted: AssertedGraph, cache_dir: Path | None = None, engine: str | None = None
) -> tuple[Graph, CacheInfo]:
    """Return the inferred graph, from the cache when the inputs and engine are unchanged, else by reasoning.

    ``cache_dir`` defaults to :func:`default_cache_dir`; ``engine`` is "owlrl" or "fast" (default owlrl)
    and is part of the cache key. The caller passes what its settings say (MGKG_CACHE_DIR, MGKG_REASONER).

    A corrupt cache file is discarded with a logged warning and rebuilt. When the cache folder cannot
    be written the graph is still returned (with a warning), so a read-only install keeps working.
    Whether the cache hit or missed, and why, is logged at debug level.
    """
    started = time.perf_counter()
    chosen = resolve_engine(engine)
    key = cache_key(asserted.files, chosen)
    path = (cache_dir if cache_dir is not None else default_cache_dir()) / f"inferred-{key}.nt"
    if path.is_file():
        try:
            graph = _read_cache(path, key)
        except _CorruptCacheError as error:
            logger.warning("Discarding corrupt cache file %s (%s); reasoning again.", path, error)
            path.unlink(missing_ok=True)
        else:
            for prefix, namespace in asserted.graph.namespaces():
                graph.bind(prefix, namespace, override=False)
            seconds = time.perf_counter() - started
            logger.debug("inference cache hit: %s (engine %s, %d triples)", path, chosen, len(graph))
            return graph, CacheInfo(
                state="hit", key=key, engine=chosen, path=path, seconds=seconds, triples=len(graph)
            )
    else:
        stale = _other_cache_files(path)
        logger.debug(
            "inference cache miss: no %s for these %d input files and engine %s%s; reasoning",
            path,
            len(asserted.files),
            chosen,
            f" (stale: {len(stale)} file(s) there for other inputs or engines: {', '.join(stale)})"
            if stale
            else "",
        )
    graph = materialize(asserted.graph, chosen)
    written = True
    try:
        _write_cache(path, key, graph)
    except OSError as error:
        written = False
        logger.warning(
            "Could not write the inference cache %s (%s); the next start will reason again.", path, error
        )
    seconds = time.perf_counter() - started
    return graph, CacheInfo(
        state="miss", key=key, engine=chosen, path=path, seconds=seconds, triples=len(graph), written=written
    )
