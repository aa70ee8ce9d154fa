from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.role import Role

T = TypeVar("T", bound="Account")


@_attrs_define
class Account:
    """An account as its members see it.

    Attributes:
        created_at (datetime.datetime): When it was created.
        dns_ttl (int): TTL in seconds of every DNS record of the account's hosts.
        domain (str): Its DNS zone: `<account>.<base-domain>`.
        name (str): The account's name.
        publish_spiffe_bundles (bool): Whether its clusters' SPIFFE bundles are served publicly, for SPIFFE federation,
            at
            `/spiffe/{account}/{cluster}/bundle`.
        role (Role): A member's (or an API token's) role in an account.
    """

    created_at: datetime.datetime
    dns_ttl: int
    domain: str
    name: str
    publish_spiffe_bundles: bool
    role: Role
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        dns_ttl = self.dns_ttl

        domain = self.domain

        name = self.name

        publish_spiffe_bundles = self.publish_spiffe_bundles

        role = self.role.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "dns_ttl": dns_ttl,
                "domain": domain,
                "name": name,
                "publish_spiffe_bundles": publish_spiffe_bundles,
                "role": role,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        dns_ttl = d.pop("dns_ttl")

        domain = d.pop("domain")

        name = d.pop("name")

        publish_spiffe_bundles = d.pop("publish_spiffe_bundles")

        role = Role(d.pop("role"))

        account = cls(
            created_at=created_at,
            dns_ttl=dns_ttl,
            domain=domain,
            name=name,
            publish_spiffe_bundles=publish_spiffe_bundles,
            role=role,
        )

        account.additional_properties = d
        return account

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
