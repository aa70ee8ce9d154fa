from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.action_view import ActionView


T = TypeVar("T", bound="ChangeView")


@_attrs_define
class ChangeView:
    """One change of one host.

    Attributes:
        actions (list[ActionView]): What it does (or would do) to each record set.
        attempts (int): Requests made for it.
        failover (bool): Whether it took an endpoint out (such changes go first).
        host (str): The host.
        id (int): The change's id (a cursor for paging).
        learned_at (datetime.datetime): When Flotilla learned what made the change (the report, or the cluster leaving
            `ready`).
        status (str): `pending` (queued, or sent and not yet answered), `applied`, `failed` (its outcome was
            lost; what is missing was sent again) or `quarantined` (refused by the provider or the
            preflight check; see `error`).
        completed_at (datetime.datetime | None | Unset): When the provider acknowledged it (or it was quarantined or
            failed).
        error (None | str | Unset): The last error: why it is quarantined, or why the last attempt failed.
        provider_change_id (None | str | Unset): The provider's id for the request that applied it (Route53's
            `/change/...`).
        submitted_at (datetime.datetime | None | Unset): When it was last sent.
    """

    actions: list[ActionView]
    attempts: int
    failover: bool
    host: str
    id: int
    learned_at: datetime.datetime
    status: str
    completed_at: datetime.datetime | None | Unset = UNSET
    error: None | str | Unset = UNSET
    provider_change_id: None | str | Unset = UNSET
    submitted_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        actions = []
        for actions_item_data in self.actions:
            actions_item = actions_item_data.to_dict()
            actions.append(actions_item)

        attempts = self.attempts

        failover = self.failover

        host = self.host

        id = self.id

        learned_at = self.learned_at.isoformat()

        status = self.status

        completed_at: None | str | Unset
        if isinstance(self.completed_at, Unset):
            completed_at = UNSET
        elif isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        provider_change_id: None | str | Unset
        if isinstance(self.provider_change_id, Unset):
            provider_change_id = UNSET
        else:
            provider_change_id = self.provider_change_id

        submitted_at: None | str | Unset
        if isinstance(self.submitted_at, Unset):
            submitted_at = UNSET
        elif isinstance(self.submitted_at, datetime.datetime):
            submitted_at = self.submitted_at.isoformat()
        else:
            submitted_at = self.submitted_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "actions": actions,
                "attempts": attempts,
                "failover": failover,
                "host": host,
                "id": id,
                "learned_at": learned_at,
                "status": status,
            }
        )
        if completed_at is not UNSET:
            field_dict["completed_at"] = completed_at
        if error is not UNSET:
            field_dict["error"] = error
        if provider_change_id is not UNSET:
            field_dict["provider_change_id"] = provider_change_id
        if submitted_at is not UNSET:
            field_dict["submitted_at"] = submitted_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.action_view import ActionView  # noqa: PLC0415

        d = dict(src_dict)
        actions = []
        _actions = d.pop("actions")
        for actions_item_data in _actions:
            actions_item = ActionView.from_dict(actions_item_data)

            actions.append(actions_item)

        attempts = d.pop("attempts")

        failover = d.pop("failover")

        host = d.pop("host")

        id = d.pop("id")

        learned_at = datetime.datetime.fromisoformat(d.pop("learned_at"))

        status = d.pop("status")

        def _parse_completed_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)

                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        completed_at = _parse_completed_at(d.pop("completed_at", UNSET))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_provider_change_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        provider_change_id = _parse_provider_change_id(d.pop("provider_change_id", UNSET))

        def _parse_submitted_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                submitted_at_type_0 = datetime.datetime.fromisoformat(data)

                return submitted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        submitted_at = _parse_submitted_at(d.pop("submitted_at", UNSET))

        change_view = cls(
            actions=actions,
            attempts=attempts,
            failover=failover,
            host=host,
            id=id,
            learned_at=learned_at,
            status=status,
            completed_at=completed_at,
            error=error,
            provider_change_id=provider_change_id,
            submitted_at=submitted_at,
        )

        change_view.additional_properties = d
        return change_view

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
