"""``make config-docs``: write the README's configuration table from the settings model.

The table sits between ``<!-- settings table ... -->`` and ``<!-- end of settings table -->``
in README.md; ``tests/unit/infrastructure/test_settings.py`` fails when the two differ.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from infrastructure.settings import Settings
from infrastructure.variables import schema

_TABLE = re.compile(r"(<!-- settings table.*?-->\n)(.*?)(<!-- end of settings table -->)", re.S)


def main(readme: Path = Path("README.md")) -> int:
    text = readme.read_text()
    if not _TABLE.search(text):
        print(f"{readme}: no settings table markers", file=sys.stderr)  # noqa: T201
        return 1
    table = schema(Settings).markdown()
    readme.write_text(_TABLE.sub(lambda found: found[1] + table + found[3], text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
