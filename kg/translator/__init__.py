"""Translator and Biolink: mgkg as Biolink nodes and edges, TRAPI 1.6 answers, KGX and SSSOM exports."""
