from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.jwt_authorities_keys_item import JwtAuthoritiesKeysItem


T = TypeVar("T", bound="JwtAuthorities")


@_attrs_define
class JwtAuthorities:
    """A cluster's published JWT authorities.

    Attributes:
        keys (list[JwtAuthoritiesKeysItem]): The keys, as published (`use` is `jwt-svid`; only public parameters).
        spiffe_sequence (int): The cluster's bundle sequence number after this request.
        changed (bool | None | Unset): Whether this request changed the set (answers to PUT only).
    """

    keys: list[JwtAuthoritiesKeysItem]
    spiffe_sequence: int
    changed: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        keys = []
        for keys_item_data in self.keys:
            keys_item = keys_item_data.to_dict()
            keys.append(keys_item)

        spiffe_sequence = self.spiffe_sequence

        changed: bool | None | Unset
        if isinstance(self.changed, Unset):
            changed = UNSET
        else:
            changed = self.changed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "keys": keys,
                "spiffe_sequence": spiffe_sequence,
            }
        )
        if changed is not UNSET:
            field_dict["changed"] = changed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.jwt_authorities_keys_item import JwtAuthoritiesKeysItem  # noqa: PLC0415

        d = dict(src_dict)
        keys = []
        _keys = d.pop("keys")
        for keys_item_data in _keys:
            keys_item = JwtAuthoritiesKeysItem.from_dict(keys_item_data)

            keys.append(keys_item)

        spiffe_sequence = d.pop("spiffe_sequence")

        def _parse_changed(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        changed = _parse_changed(d.pop("changed", UNSET))

        jwt_authorities = cls(
            keys=keys,
            spiffe_sequence=spiffe_sequence,
            changed=changed,
        )

        jwt_authorities.additional_properties = d
        return jwt_authorities

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
