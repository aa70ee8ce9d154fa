from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.name_kind import NameKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="NameCheck")


@_attrs_define
class NameCheck:
    """The verdict on a name.

    Attributes:
        kind (NameKind): What the name is for.
        name (str): The name checked.
        valid (bool): Whether the name is acceptable.
        domain (None | str | Unset): Where it would live: `<account>.<base-domain>` or `spiffe://<cluster>/`.
        reason (None | str | Unset): Why it is not, when it is not.
    """

    kind: NameKind
    name: str
    valid: bool
    domain: None | str | Unset = UNSET
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind.value

        name = self.name

        valid = self.valid

        domain: None | str | Unset
        if isinstance(self.domain, Unset):
            domain = UNSET
        else:
            domain = self.domain

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
                "name": name,
                "valid": valid,
            }
        )
        if domain is not UNSET:
            field_dict["domain"] = domain
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = NameKind(d.pop("kind"))

        name = d.pop("name")

        valid = d.pop("valid")

        def _parse_domain(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        domain = _parse_domain(d.pop("domain", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        name_check = cls(
            kind=kind,
            name=name,
            valid=valid,
            domain=domain,
            reason=reason,
        )

        name_check.additional_properties = d
        return name_check

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
