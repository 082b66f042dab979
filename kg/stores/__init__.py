"""Stores: a Store protocol (base), one module per kind (memory, oxigraph, remote) in a registry."""
