"""Base class of the generated typed config classes (pydantic v2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """Unknown keys are errors, assignments are validated, and fields accept their JSON names (``$schema``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)
