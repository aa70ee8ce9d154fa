from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EndpointView")


@_attrs_define
class EndpointView:
    """An endpoint as stored.

    Attributes:
        cluster (str): The reporting cluster.
        healthy (bool): As last reported.
        host (str): The host, fully qualified, without the trailing dot.
        targets (list[str]): Addresses, or one hostname.
        updated_at (datetime.datetime): When it was last reported.
        weight (int): 0-255.
        region (None | str | Unset): The cluster's `region` label.
    """

    cluster: str
    healthy: bool
    host: str
    targets: list[str]
    updated_at: datetime.datetime
    weight: int
    region: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cluster = self.cluster

        healthy = self.healthy

        host = self.host

        targets = self.targets

        updated_at = self.updated_at.isoformat()

        weight = self.weight

        region: None | str | Unset
        if isinstance(self.region, Unset):
            region = UNSET
        else:
            region = self.region

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cluster": cluster,
                "healthy": healthy,
                "host": host,
                "targets": targets,
                "updated_at": updated_at,
                "weight": weight,
            }
        )
        if region is not UNSET:
            field_dict["region"] = region

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cluster = d.pop("cluster")

        healthy = d.pop("healthy")

        host = d.pop("host")

        targets = cast(list[str], d.pop("targets"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        weight = d.pop("weight")

        def _parse_region(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        region = _parse_region(d.pop("region", UNSET))

        endpoint_view = cls(
            cluster=cluster,
            healthy=healthy,
            host=host,
            targets=targets,
            updated_at=updated_at,
            weight=weight,
            region=region,
        )

        endpoint_view.additional_properties = d
        return endpoint_view

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
