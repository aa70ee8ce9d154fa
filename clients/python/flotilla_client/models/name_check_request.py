from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.name_kind import NameKind

T = TypeVar("T", bound="NameCheckRequest")


@_attrs_define
class NameCheckRequest:
    """A name to check.

    Attributes:
        kind (NameKind): What the name is for.
        name (str): The candidate name. Example: acme.
    """

    kind: NameKind
    name: str

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = NameKind(d.pop("kind"))

        name = d.pop("name")

        name_check_request = cls(
            kind=kind,
            name=name,
        )

        return name_check_request
