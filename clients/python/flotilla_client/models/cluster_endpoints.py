from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.endpoint_changes import EndpointChanges
    from ..models.endpoint_view import EndpointView


T = TypeVar("T", bound="ClusterEndpoints")


@_attrs_define
class ClusterEndpoints:
    """A cluster's endpoints, and the zone they must lie in.

    Attributes:
        cluster (str): The cluster.
        endpoints (list[EndpointView]): The endpoints, by host.
        zone (str): The account's DNS zone, `<account>.<base-domain>`: a host is this name or under it. Example:
            acme.flotilla.example.com.
        changes (EndpointChanges | None | Unset):
    """

    cluster: str
    endpoints: list[EndpointView]
    zone: str
    changes: EndpointChanges | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.endpoint_changes import EndpointChanges  # noqa: PLC0415

        cluster = self.cluster

        endpoints = []
        for endpoints_item_data in self.endpoints:
            endpoints_item = endpoints_item_data.to_dict()
            endpoints.append(endpoints_item)

        zone = self.zone

        changes: dict[str, Any] | None | Unset
        if isinstance(self.changes, Unset):
            changes = UNSET
        elif isinstance(self.changes, EndpointChanges):
            changes = self.changes.to_dict()
        else:
            changes = self.changes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cluster": cluster,
                "endpoints": endpoints,
                "zone": zone,
            }
        )
        if changes is not UNSET:
            field_dict["changes"] = changes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.endpoint_changes import EndpointChanges  # noqa: PLC0415
        from ..models.endpoint_view import EndpointView  # noqa: PLC0415

        d = dict(src_dict)
        cluster = d.pop("cluster")

        endpoints = []
        _endpoints = d.pop("endpoints")
        for endpoints_item_data in _endpoints:
            endpoints_item = EndpointView.from_dict(endpoints_item_data)

            endpoints.append(endpoints_item)

        zone = d.pop("zone")

        def _parse_changes(data: object) -> EndpointChanges | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                changes_type_1 = EndpointChanges.from_dict(data)

                return changes_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EndpointChanges | None | Unset, data)

        changes = _parse_changes(d.pop("changes", UNSET))

        cluster_endpoints = cls(
            cluster=cluster,
            endpoints=endpoints,
            zone=zone,
            changes=changes,
        )

        cluster_endpoints.additional_properties = d
        return cluster_endpoints

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
