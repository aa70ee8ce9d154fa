from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EndpointChanges")


@_attrs_define
class EndpointChanges:
    """What replacing a set did.

    Attributes:
        created (int): Endpoints that were new.
        unchanged (int): Endpoints already so: nothing was written for them.
        updated (int): Endpoints whose targets, weight or health changed.
        withdrawn (int): Endpoints absent from the set: withdrawn.
    """

    created: int
    unchanged: int
    updated: int
    withdrawn: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created = self.created

        unchanged = self.unchanged

        updated = self.updated

        withdrawn = self.withdrawn

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created": created,
                "unchanged": unchanged,
                "updated": updated,
                "withdrawn": withdrawn,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created = d.pop("created")

        unchanged = d.pop("unchanged")

        updated = d.pop("updated")

        withdrawn = d.pop("withdrawn")

        endpoint_changes = cls(
            created=created,
            unchanged=unchanged,
            updated=updated,
            withdrawn=withdrawn,
        )

        endpoint_changes.additional_properties = d
        return endpoint_changes

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
