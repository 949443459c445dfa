"""Viva on the learner's own project: read their training code (a file, a folder, a zip or a
notebook), measure their model in the contained runner, find what an examiner would find, and
turn it into a deck of questions. No Streamlit import; torch only inside the contained runner."""
