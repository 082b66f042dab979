"""Causal reasoning: the causal network, signed path search, why, justify, causes."""
