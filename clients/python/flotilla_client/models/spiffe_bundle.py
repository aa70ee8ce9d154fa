from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.spiffe_bundle_keys_item import SpiffeBundleKeysItem


T = TypeVar("T", bound="SpiffeBundle")


@_attrs_define
class SpiffeBundle:
    """A SPIFFE bundle (SPIFFE Trust Domain and Bundle specification): a JWK Set of the trust
    domain's `x509-svid` authorities (one per trusted identity CA, the certificate in `x5c`)
    and `jwt-svid` authorities (with `kid`).

        Attributes:
            keys (list[SpiffeBundleKeysItem]): The authorities, as JWKs.
            spiffe_refresh_hint (int): Seconds after which consumers should fetch the bundle again.
            spiffe_sequence (int): Rises on every change of the bundle; never reused.
    """

    keys: list[SpiffeBundleKeysItem]
    spiffe_refresh_hint: int
    spiffe_sequence: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        keys = []
        for keys_item_data in self.keys:
            keys_item = keys_item_data.to_dict()
            keys.append(keys_item)

        spiffe_refresh_hint = self.spiffe_refresh_hint

        spiffe_sequence = self.spiffe_sequence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "keys": keys,
                "spiffe_refresh_hint": spiffe_refresh_hint,
                "spiffe_sequence": spiffe_sequence,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.spiffe_bundle_keys_item import SpiffeBundleKeysItem  # noqa: PLC0415

        d = dict(src_dict)
        keys = []
        _keys = d.pop("keys")
        for keys_item_data in _keys:
            keys_item = SpiffeBundleKeysItem.from_dict(keys_item_data)

            keys.append(keys_item)

        spiffe_refresh_hint = d.pop("spiffe_refresh_hint")

        spiffe_sequence = d.pop("spiffe_sequence")

        spiffe_bundle = cls(
            keys=keys,
            spiffe_refresh_hint=spiffe_refresh_hint,
            spiffe_sequence=spiffe_sequence,
        )

        spiffe_bundle.additional_properties = d
        return spiffe_bundle

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
