from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.status import Status

T = TypeVar("T", bound="HeartbeatAck")


@_attrs_define
class HeartbeatAck:
    """The answer to a heartbeat.

    Attributes:
        previous_status (str): Its status before this heartbeat.
        stale_after_seconds (int): Send the next heartbeat within this many seconds to stay `ready`.
        status (Status): A cluster's status.
    """

    previous_status: str
    stale_after_seconds: int
    status: Status
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        previous_status = self.previous_status

        stale_after_seconds = self.stale_after_seconds

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "previous_status": previous_status,
                "stale_after_seconds": stale_after_seconds,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        previous_status = d.pop("previous_status")

        stale_after_seconds = d.pop("stale_after_seconds")

        status = Status(d.pop("status"))

        heartbeat_ack = cls(
            previous_status=previous_status,
            stale_after_seconds=stale_after_seconds,
            status=status,
        )

        heartbeat_ack.additional_properties = d
        return heartbeat_ack

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
