from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.new_registration_token_labels import NewRegistrationTokenLabels


T = TypeVar("T", bound="NewRegistrationToken")


@_attrs_define
class NewRegistrationToken:
    """A registration token to create.

    Attributes:
        description (str): What it is for (1-100 characters). Example: eu-west-1 clusters.
        labels (NewRegistrationTokenLabels | Unset):
        max_uses (int | None | Unset): How many registrations it may make (1-10000); 1 when absent.
        ttl_seconds (int | None | Unset): Seconds until it stops working: 1 to 604800 (7 days); 3600 when absent.
            Example: 3600.
    """

    description: str
    labels: NewRegistrationTokenLabels | Unset = UNSET
    max_uses: int | None | Unset = UNSET
    ttl_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        labels: dict[str, Any] | Unset = UNSET
        if not isinstance(self.labels, Unset):
            labels = self.labels.to_dict()

        max_uses: int | None | Unset
        if isinstance(self.max_uses, Unset):
            max_uses = UNSET
        else:
            max_uses = self.max_uses

        ttl_seconds: int | None | Unset
        if isinstance(self.ttl_seconds, Unset):
            ttl_seconds = UNSET
        else:
            ttl_seconds = self.ttl_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "description": description,
            }
        )
        if labels is not UNSET:
            field_dict["labels"] = labels
        if max_uses is not UNSET:
            field_dict["max_uses"] = max_uses
        if ttl_seconds is not UNSET:
            field_dict["ttl_seconds"] = ttl_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.new_registration_token_labels import NewRegistrationTokenLabels  # noqa: PLC0415

        d = dict(src_dict)
        description = d.pop("description")

        _labels = d.pop("labels", UNSET)
        labels: NewRegistrationTokenLabels | Unset
        if isinstance(_labels, Unset):
            labels = UNSET
        else:
            labels = NewRegistrationTokenLabels.from_dict(_labels)

        def _parse_max_uses(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_uses = _parse_max_uses(d.pop("max_uses", UNSET))

        def _parse_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_seconds = _parse_ttl_seconds(d.pop("ttl_seconds", UNSET))

        new_registration_token = cls(
            description=description,
            labels=labels,
            max_uses=max_uses,
            ttl_seconds=ttl_seconds,
        )

        return new_registration_token
