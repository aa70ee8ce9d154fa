from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_event_details import AuditEventDetails


T = TypeVar("T", bound="AuditEvent")


@_attrs_define
class AuditEvent:
    """One audit entry.

    Attributes:
        action (str): What, as `noun.verb`: `cluster.registered`, `cluster.rotated`,
            `cluster.deregistered`, `api-token.created`, `member.removed`, ...
        actor (str): Who, as shown: an email, a token's name, a cluster and its agent's identity.
        actor_kind (str): Who: `person`, `api-token`, `registration-token` or `cluster`.
        at (datetime.datetime): When.
        details (AuditEventDetails): More about it.
        id (int): Its id (newer entries have larger ids; pass as `before` for the next page).
        target (str): To what: a cluster, a token, a member's email.
        actor_id (None | Unset | UUID): The person's, token's or cluster's id.
        request_id (None | str | Unset): The request's id.
        source (None | str | Unset): The address the request came from.
    """

    action: str
    actor: str
    actor_kind: str
    at: datetime.datetime
    details: AuditEventDetails
    id: int
    target: str
    actor_id: None | Unset | UUID = UNSET
    request_id: None | str | Unset = UNSET
    source: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        actor_kind = self.actor_kind

        at = self.at.isoformat()

        details = self.details.to_dict()

        id = self.id

        target = self.target

        actor_id: None | str | Unset
        if isinstance(self.actor_id, Unset):
            actor_id = UNSET
        elif isinstance(self.actor_id, UUID):
            actor_id = str(self.actor_id)
        else:
            actor_id = self.actor_id

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        source: None | str | Unset
        if isinstance(self.source, Unset):
            source = UNSET
        else:
            source = self.source

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "actor_kind": actor_kind,
                "at": at,
                "details": details,
                "id": id,
                "target": target,
            }
        )
        if actor_id is not UNSET:
            field_dict["actor_id"] = actor_id
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if source is not UNSET:
            field_dict["source"] = source

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_details import AuditEventDetails  # noqa: PLC0415

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        actor_kind = d.pop("actor_kind")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        details = AuditEventDetails.from_dict(d.pop("details"))

        id = d.pop("id")

        target = d.pop("target")

        def _parse_actor_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                actor_id_type_0 = UUID(data)

                return actor_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        actor_id = _parse_actor_id(d.pop("actor_id", UNSET))

        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("request_id", UNSET))

        def _parse_source(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        source = _parse_source(d.pop("source", UNSET))

        audit_event = cls(
            action=action,
            actor=actor,
            actor_kind=actor_kind,
            at=at,
            details=details,
            id=id,
            target=target,
            actor_id=actor_id,
            request_id=request_id,
            source=source,
        )

        audit_event.additional_properties = d
        return audit_event

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
