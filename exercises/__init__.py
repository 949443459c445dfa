"""Coding exercises checked against a reference, and drills whose answers PyTorch computes.

Importing this package (and listing exercises) needs no torch: checks import it when they run."""
