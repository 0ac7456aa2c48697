"""One line from a pydantic ValidationError: the first field and message, never the input.

Every edge (CLI, YAML loaders, HTTP) reports bad input with this, so the wording is the same
everywhere and a secret given as input is never echoed back.
"""

from __future__ import annotations

from pydantic import ValidationError

# Location parts that say where the value came from, not which field it is.
_CONTAINERS = {"body", "path", "query"}


def first_error(exc: ValidationError, *, default: str = "input") -> tuple[str, str]:
    """(dotted field name, message) of the first error."""
    first = exc.errors()[0]
    parts = [str(part) for part in first.get("loc", ()) if part not in _CONTAINERS]
    return ".".join(parts) or default, str(first.get("msg", "invalid"))


def one_line(
    exc: ValidationError, *, default: str = "input", template: str = "{field}: {message}"
) -> str:
    """`field: message` (or `template`), plus how many more errors there were."""
    field, message = first_error(exc, default=default)
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return template.format(field=field, message=message) + more
