"""What every value read from a user's YAML or command line must be, stated once for every model.

:data:`STRICT_VALUES` goes into the ``model_config`` of every pydantic model that reads user input (the
config sections, the sweep file): a number is a finite number of its type (no ``true`` for 1, no ``nan``
or ``.inf``, no ``"64"`` for 64, no 64.5 for an integer; an integer is a valid float), a string is a
string. :data:`Seed` is the one seed range of configs, sweep files and every command's ``--seed``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

STRICT_VALUES = ConfigDict(strict=True, allow_inf_nan=False)
MAX_SEED = 2**31 - 1
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
