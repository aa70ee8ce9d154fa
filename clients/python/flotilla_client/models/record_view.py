from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.record_data import RecordData


T = TypeVar("T", bound="RecordView")


@_attrs_define
class RecordView:
    """One record set of a host.

    Attributes:
        applied (bool): Whether the provider holds exactly the plan.
        host (str): The host it serves.
        name (str): The set's name, qualified.
        status (str): `applied`, `pending` (not yet applied) or `quarantined` (the provider refused it).
        type_ (str): Its type.
        error (None | str | Unset): Why it is quarantined.
        planned (None | RecordData | Unset):
        set_identifier (None | str | Unset): The set identifier (region of a latency set, cluster of a weighted one).
    """

    applied: bool
    host: str
    name: str
    status: str
    type_: str
    error: None | str | Unset = UNSET
    planned: None | RecordData | Unset = UNSET
    set_identifier: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.record_data import RecordData  # noqa: PLC0415

        applied = self.applied

        host = self.host

        name = self.name

        status = self.status

        type_ = self.type_

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        planned: dict[str, Any] | None | Unset
        if isinstance(self.planned, Unset):
            planned = UNSET
        elif isinstance(self.planned, RecordData):
            planned = self.planned.to_dict()
        else:
            planned = self.planned

        set_identifier: None | str | Unset
        if isinstance(self.set_identifier, Unset):
            set_identifier = UNSET
        else:
            set_identifier = self.set_identifier

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "applied": applied,
                "host": host,
                "name": name,
                "status": status,
                "type": type_,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if planned is not UNSET:
            field_dict["planned"] = planned
        if set_identifier is not UNSET:
            field_dict["set_identifier"] = set_identifier

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.record_data import RecordData  # noqa: PLC0415

        d = dict(src_dict)
        applied = d.pop("applied")

        host = d.pop("host")

        name = d.pop("name")

        status = d.pop("status")

        type_ = d.pop("type")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_planned(data: object) -> None | RecordData | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                planned_type_1 = RecordData.from_dict(data)

                return planned_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RecordData | Unset, data)

        planned = _parse_planned(d.pop("planned", UNSET))

        def _parse_set_identifier(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        set_identifier = _parse_set_identifier(d.pop("set_identifier", UNSET))

        record_view = cls(
            applied=applied,
            host=host,
            name=name,
            status=status,
            type_=type_,
            error=error,
            planned=planned,
            set_identifier=set_identifier,
        )

        record_view.additional_properties = d
        return record_view

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
