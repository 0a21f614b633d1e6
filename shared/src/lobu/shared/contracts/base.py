"""The base of every event contract and the record that ties a type name to its topic."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

ModelT = TypeVar("ModelT", bound="ContractModel")


class ContractModel(BaseModel):
    """Event data as producers write it: unknown fields are an error, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class EventDefinition:
    """One CloudEvents type: its name, the topic it travels on and the model of its data."""

    type: str
    topic: str
    data_model: builtins.type[ContractModel]  # `type` alone would mean the field above
    description: str
    personal_data: bool = False


def read_event_data(model: type[ModelT], data: Any) -> ModelT:
    """Validate received `data` against a contract, ignoring fields added later."""
    return model.model_validate(data, extra="ignore")
