"""Rendering: the picture graph, file formats, Graphviz, the compact answer document."""
