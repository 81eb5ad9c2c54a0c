"""Base class of the generated typed config classes (pydantic v2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """Strict like the schema (no "44100" or 2.0 for an integer), assignments validated, fields accept their
    JSON names (``$schema``). Classes whose schema forbids unknown keys say ``extra="forbid"`` themselves;
    objects the schema leaves open keep their extra keys."""

    model_config = ConfigDict(extra="allow", strict=True, validate_assignment=True, populate_by_name=True)
