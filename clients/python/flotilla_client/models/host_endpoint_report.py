from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="HostEndpointReport")


@_attrs_define
class HostEndpointReport:
    """One endpoint of a set: a host and what the cluster serves for it.

    Attributes:
        host (str): A name inside `<account>.<base-domain>` (at most 200 characters, and a final dot).
        targets (list[str]): IPv4/IPv6 addresses (at most 32), or exactly one hostname.
        healthy (bool | None | Unset): Default true; false takes it out of DNS.
        weight (int | None | Unset): 0-255. Default 1.
    """

    host: str
    targets: list[str]
    healthy: bool | None | Unset = UNSET
    weight: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        host = self.host

        targets = self.targets

        healthy: bool | None | Unset
        if isinstance(self.healthy, Unset):
            healthy = UNSET
        else:
            healthy = self.healthy

        weight: int | None | Unset
        if isinstance(self.weight, Unset):
            weight = UNSET
        else:
            weight = self.weight

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "host": host,
                "targets": targets,
            }
        )
        if healthy is not UNSET:
            field_dict["healthy"] = healthy
        if weight is not UNSET:
            field_dict["weight"] = weight

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        host = d.pop("host")

        targets = cast(list[str], d.pop("targets"))

        def _parse_healthy(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        healthy = _parse_healthy(d.pop("healthy", UNSET))

        def _parse_weight(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        weight = _parse_weight(d.pop("weight", UNSET))

        host_endpoint_report = cls(
            host=host,
            targets=targets,
            healthy=healthy,
            weight=weight,
        )

        return host_endpoint_report
