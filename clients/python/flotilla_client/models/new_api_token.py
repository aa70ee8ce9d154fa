from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.role import Role

T = TypeVar("T", bound="NewApiToken")


@_attrs_define
class NewApiToken:
    """A token to create.

    Attributes:
        expires_at (datetime.datetime): When it stops working: in the future, at most one year away.
        name (str): What it is for (1-100 characters). Example: ci-deployer.
        role (Role): A member's (or an API token's) role in an account.
    """

    expires_at: datetime.datetime
    name: str
    role: Role

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at.isoformat()

        name = self.name

        role = self.role.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "expires_at": expires_at,
                "name": name,
                "role": role,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        name = d.pop("name")

        role = Role(d.pop("role"))

        new_api_token = cls(
            expires_at=expires_at,
            name=name,
            role=role,
        )

        return new_api_token
