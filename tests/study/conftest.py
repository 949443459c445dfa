"""Fixtures the grading tests share: the bank by id, and grading caches cleared around a test."""

import pytest

from qa_bank.loader import load_bank


@pytest.fixture(scope="module")
def items():
    return load_bank().by_id()


@pytest.fixture
def fresh_caches():
    """Key points and item words are cached per lexicon; a test that patches the reader must not
    see clauses read before (or leave its own behind)."""
    from study.grading.grader import _item_terms
    from study.grading.text import key_point_clause

    key_point_clause.cache_clear()
    _item_terms.cache_clear()
    yield
    key_point_clause.cache_clear()
    _item_terms.cache_clear()
