"""Shared view pieces for the Streamlit pages, by job: `state` (caches, clock, the learner and
their store), `identity` (who the learner is on a hosted server), `cards` (card, feedback and
rating views), `demos` (demo panels and edit-and-run), `serve` (the server launcher)."""
