"""mgkg's web service: REST, SPARQL and the web page over one knowledge graph."""
