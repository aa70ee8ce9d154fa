from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AccountSettings")


@_attrs_define
class AccountSettings:
    """Settings to change; members left out keep their value.

    Attributes:
        dns_ttl (int | None | Unset): TTL in seconds of every DNS record of the account's hosts, 1-86400 (default 1: a
            failover reaches clients as soon as the provider has it).
        publish_spiffe_bundles (bool | None | Unset): Serve the clusters' SPIFFE bundles publicly (no authentication,
            per the SPIFFE
            Federation `https_web` profile) at `/spiffe/{account}/{cluster}/bundle`. Off by default.
    """

    dns_ttl: int | None | Unset = UNSET
    publish_spiffe_bundles: bool | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        dns_ttl: int | None | Unset
        if isinstance(self.dns_ttl, Unset):
            dns_ttl = UNSET
        else:
            dns_ttl = self.dns_ttl

        publish_spiffe_bundles: bool | None | Unset
        if isinstance(self.publish_spiffe_bundles, Unset):
            publish_spiffe_bundles = UNSET
        else:
            publish_spiffe_bundles = self.publish_spiffe_bundles

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if dns_ttl is not UNSET:
            field_dict["dns_ttl"] = dns_ttl
        if publish_spiffe_bundles is not UNSET:
            field_dict["publish_spiffe_bundles"] = publish_spiffe_bundles

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_dns_ttl(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        dns_ttl = _parse_dns_ttl(d.pop("dns_ttl", UNSET))

        def _parse_publish_spiffe_bundles(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        publish_spiffe_bundles = _parse_publish_spiffe_bundles(d.pop("publish_spiffe_bundles", UNSET))

        account_settings = cls(
            dns_ttl=dns_ttl,
            publish_spiffe_bundles=publish_spiffe_bundles,
        )

        return account_settings
