"""The knowledge graph: load the Turtle, validate it (SHACL), infer (OWL 2 RL), cache."""
