"""Store backends: the memory store, an on-disk Oxigraph store, a remote SPARQL store."""
