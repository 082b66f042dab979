"""The vocabulary, the value types and the names of things."""
