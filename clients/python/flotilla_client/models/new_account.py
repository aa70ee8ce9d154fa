from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="NewAccount")


@_attrs_define
class NewAccount:
    """A sign-up: the account name to create.

    Attributes:
        name (str): A DNS label, since it becomes `<account>.<base-domain>`. Example: acme.
    """

    name: str

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        new_account = cls(
            name=name,
        )

        return new_account
