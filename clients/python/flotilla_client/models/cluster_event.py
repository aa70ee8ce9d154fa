from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ClusterEvent")


@_attrs_define
class ClusterEvent:
    """One thing that happened to a cluster.

    Attributes:
        at (datetime.datetime): When.
        detail (str): What happened.
        id (int): Its id (newer events have larger ids; pass as `before` for the next page).
        kind (str): `registered`, `updated`, `rotated`, `identity-ca-removed` or `status`.
    """

    at: datetime.datetime
    detail: str
    id: int
    kind: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        detail = self.detail

        id = self.id

        kind = self.kind

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "detail": detail,
                "id": id,
                "kind": kind,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        detail = d.pop("detail")

        id = d.pop("id")

        kind = d.pop("kind")

        cluster_event = cls(
            at=at,
            detail=detail,
            id=id,
            kind=kind,
        )

        cluster_event.additional_properties = d
        return cluster_event

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
