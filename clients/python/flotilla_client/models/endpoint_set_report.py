from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.host_endpoint_report import HostEndpointReport


T = TypeVar("T", bound="EndpointSetReport")


@_attrs_define
class EndpointSetReport:
    """A cluster's whole set of endpoints, as its agent reports it.

    Attributes:
        endpoints (list[HostEndpointReport]): Every endpoint the cluster serves (at most 1000, hosts distinct); any
            other endpoint
            of the cluster is withdrawn. Empty withdraws them all.
    """

    endpoints: list[HostEndpointReport]

    def to_dict(self) -> dict[str, Any]:
        endpoints = []
        for endpoints_item_data in self.endpoints:
            endpoints_item = endpoints_item_data.to_dict()
            endpoints.append(endpoints_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "endpoints": endpoints,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.host_endpoint_report import HostEndpointReport  # noqa: PLC0415

        d = dict(src_dict)
        endpoints = []
        _endpoints = d.pop("endpoints")
        for endpoints_item_data in _endpoints:
            endpoints_item = HostEndpointReport.from_dict(endpoints_item_data)

            endpoints.append(endpoints_item)

        endpoint_set_report = cls(
            endpoints=endpoints,
        )

        return endpoint_set_report
