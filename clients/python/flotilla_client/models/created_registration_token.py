from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.registration_token_labels_type_0 import RegistrationTokenLabelsType0


T = TypeVar("T", bound="CreatedRegistrationToken")


@_attrs_define
class CreatedRegistrationToken:
    """A created registration token, with its secret: shown this once.

    Attributes:
        created_at (datetime.datetime): When it was created.
        description (str): What it is for.
        expires_at (datetime.datetime): When it stops working.
        id (UUID): Its id (for revoking).
        labels (RegistrationTokenLabelsType0): Labels it applies.
        max_uses (int): Registrations it may make.
        prefix (str): The start of the token (`flreg_<lookup>`), to recognise it.
        state (str): `active`, `used-up`, `expired` or `revoked`.
        uses (int): Registrations it made.
        token (str): The token, with its secret: `Authorization: Bearer <token>` on
            `PUT /api/v1/accounts/{account}/clusters/{cluster}`.
        last_used_at (datetime.datetime | None | Unset): When it last registered a cluster.
        revoked_at (datetime.datetime | None | Unset): When it was revoked, if it was.
    """

    created_at: datetime.datetime
    description: str
    expires_at: datetime.datetime
    id: UUID
    labels: RegistrationTokenLabelsType0
    max_uses: int
    prefix: str
    state: str
    uses: int
    token: str
    last_used_at: datetime.datetime | None | Unset = UNSET
    revoked_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.registration_token_labels_type_0 import RegistrationTokenLabelsType0  # noqa: PLC0415

        created_at = self.created_at.isoformat()

        description = self.description

        expires_at = self.expires_at.isoformat()

        id = str(self.id)

        labels: dict[str, Any]
        if isinstance(self.labels, RegistrationTokenLabelsType0):
            labels = self.labels.to_dict()

        max_uses = self.max_uses

        prefix = self.prefix

        state = self.state

        uses = self.uses

        token = self.token

        last_used_at: None | str | Unset
        if isinstance(self.last_used_at, Unset):
            last_used_at = UNSET
        elif isinstance(self.last_used_at, datetime.datetime):
            last_used_at = self.last_used_at.isoformat()
        else:
            last_used_at = self.last_used_at

        revoked_at: None | str | Unset
        if isinstance(self.revoked_at, Unset):
            revoked_at = UNSET
        elif isinstance(self.revoked_at, datetime.datetime):
            revoked_at = self.revoked_at.isoformat()
        else:
            revoked_at = self.revoked_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "description": description,
                "expires_at": expires_at,
                "id": id,
                "labels": labels,
                "max_uses": max_uses,
                "prefix": prefix,
                "state": state,
                "uses": uses,
                "token": token,
            }
        )
        if last_used_at is not UNSET:
            field_dict["last_used_at"] = last_used_at
        if revoked_at is not UNSET:
            field_dict["revoked_at"] = revoked_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.registration_token_labels_type_0 import RegistrationTokenLabelsType0  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        description = d.pop("description")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        id = UUID(d.pop("id"))

        def _parse_labels(data: object) -> RegistrationTokenLabelsType0:
            if not isinstance(data, dict):
                raise TypeError()
            labels_type_0 = RegistrationTokenLabelsType0.from_dict(data)

            return labels_type_0

        labels = _parse_labels(d.pop("labels"))

        max_uses = d.pop("max_uses")

        prefix = d.pop("prefix")

        state = d.pop("state")

        uses = d.pop("uses")

        token = d.pop("token")

        def _parse_last_used_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_used_at_type_0 = datetime.datetime.fromisoformat(data)

                return last_used_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_used_at = _parse_last_used_at(d.pop("last_used_at", UNSET))

        def _parse_revoked_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                revoked_at_type_0 = datetime.datetime.fromisoformat(data)

                return revoked_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        revoked_at = _parse_revoked_at(d.pop("revoked_at", UNSET))

        created_registration_token = cls(
            created_at=created_at,
            description=description,
            expires_at=expires_at,
            id=id,
            labels=labels,
            max_uses=max_uses,
            prefix=prefix,
            state=state,
            uses=uses,
            token=token,
            last_used_at=last_used_at,
            revoked_at=revoked_at,
        )

        created_registration_token.additional_properties = d
        return created_registration_token

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
