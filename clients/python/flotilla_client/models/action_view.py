from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.action import Action
from ..types import UNSET, Unset

T = TypeVar("T", bound="ActionView")


@_attrs_define
class ActionView:
    """One change to one record set, as queued or sent.

    Attributes:
        ttl (int): Seconds.
        values (list[str]): Canonical values, sorted for address sets.
        action (Action): What a change does to a record set.
        name (str): The record set's name, qualified.
        type_ (str): Its type.
        region (None | str | Unset): The AWS region of a latency set.
        weight (int | None | Unset): The weight of a weighted set.
        set_identifier (None | str | Unset): Its set identifier (region or cluster), for routed sets.
    """

    ttl: int
    values: list[str]
    action: Action
    name: str
    type_: str
    region: None | str | Unset = UNSET
    weight: int | None | Unset = UNSET
    set_identifier: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ttl = self.ttl

        values = self.values

        action = self.action.value

        name = self.name

        type_ = self.type_

        region: None | str | Unset
        if isinstance(self.region, Unset):
            region = UNSET
        else:
            region = self.region

        weight: int | None | Unset
        if isinstance(self.weight, Unset):
            weight = UNSET
        else:
            weight = self.weight

        set_identifier: None | str | Unset
        if isinstance(self.set_identifier, Unset):
            set_identifier = UNSET
        else:
            set_identifier = self.set_identifier

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ttl": ttl,
                "values": values,
                "action": action,
                "name": name,
                "type": type_,
            }
        )
        if region is not UNSET:
            field_dict["region"] = region
        if weight is not UNSET:
            field_dict["weight"] = weight
        if set_identifier is not UNSET:
            field_dict["set_identifier"] = set_identifier

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        ttl = d.pop("ttl")

        values = cast(list[str], d.pop("values"))

        action = Action(d.pop("action"))

        name = d.pop("name")

        type_ = d.pop("type")

        def _parse_region(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        region = _parse_region(d.pop("region", UNSET))

        def _parse_weight(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        weight = _parse_weight(d.pop("weight", UNSET))

        def _parse_set_identifier(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        set_identifier = _parse_set_identifier(d.pop("set_identifier", UNSET))

        action_view = cls(
            ttl=ttl,
            values=values,
            action=action,
            name=name,
            type_=type_,
            region=region,
            weight=weight,
            set_identifier=set_identifier,
        )

        action_view.additional_properties = d
        return action_view

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
