"""Resolve an item's links to code (`code_refs`) and to demos (`demo`)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

# The demo registry lives in proofs (it needs torch); it is imported only when an item
# actually links a demo, so linting a bank without demos stays torch-free.
DEMO_REGISTRY_MODULE = "proofs.catalogue"
EXERCISE_CATALOGUE_MODULE = "exercises.catalogue"  # exercises link items from their side


def resolve_code_ref(ref: str) -> object:
    """Import `package.module:Name.attr` and return the object.

    Raises:
        LookupError: with a one-line reason when the module or attribute does not exist.
    """
    module_name, _, attribute_path = ref.partition(":")
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise LookupError(f"module '{module_name}' does not import ({error})") from None
    for part in attribute_path.split("."):
        if not hasattr(target, part):
            raise LookupError(f"'{module_name}' has no attribute '{attribute_path}'")
        target = getattr(target, part)
    return target


def known_demo_checks() -> dict[str, tuple[str, ...]]:
    """Every registered demo's id and the names of the checks it can report.

    Raises:
        LookupError: when the registry cannot be imported.
    """
    try:
        registry = importlib.import_module(DEMO_REGISTRY_MODULE)
    except ImportError as error:
        raise LookupError(f"demo registry '{DEMO_REGISTRY_MODULE}' does not import ({error})") from None
    list_demos: Callable[[], list] = registry.all_demos
    return {demo.id: demo.check_names for demo in list_demos()}


def exercise_sources() -> list[tuple[object, str, str]]:
    """(exercise, its module's path, that module's source) for every exercise."""
    import inspect

    catalogue = importlib.import_module(EXERCISE_CATALOGUE_MODULE)
    found = []
    for exercise in catalogue.all_exercises().values():
        module = inspect.getmodule(exercise.checks)
        found.append((exercise, module.__file__, inspect.getsource(module)))
    return found
