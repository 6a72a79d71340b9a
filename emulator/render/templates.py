"""The Jinja2 environment of each suite's templates (``templates/<suite>/``)."""

from __future__ import annotations

from functools import cache

import jinja2

from emulator.paths import templates_dir


@cache
def environment(suite: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / suite)),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
