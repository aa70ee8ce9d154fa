from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.heartbeat_figures_type_0 import HeartbeatFiguresType0


T = TypeVar("T", bound="Heartbeat")


@_attrs_define
class Heartbeat:
    """A heartbeat.

    Attributes:
        agent_version (str): The agent's version. Example: 0.17.2.
        figures (HeartbeatFiguresType0 | None | Unset):
    """

    agent_version: str
    figures: HeartbeatFiguresType0 | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.heartbeat_figures_type_0 import HeartbeatFiguresType0  # noqa: PLC0415

        agent_version = self.agent_version

        figures: dict[str, Any] | None | Unset
        if isinstance(self.figures, Unset):
            figures = UNSET
        elif isinstance(self.figures, HeartbeatFiguresType0):
            figures = self.figures.to_dict()
        else:
            figures = self.figures

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "agent_version": agent_version,
            }
        )
        if figures is not UNSET:
            field_dict["figures"] = figures

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.heartbeat_figures_type_0 import HeartbeatFiguresType0  # noqa: PLC0415

        d = dict(src_dict)
        agent_version = d.pop("agent_version")

        def _parse_figures(data: object) -> HeartbeatFiguresType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                figures_type_0 = HeartbeatFiguresType0.from_dict(data)

                return figures_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HeartbeatFiguresType0 | None | Unset, data)

        figures = _parse_figures(d.pop("figures", UNSET))

        heartbeat = cls(
            agent_version=agent_version,
            figures=figures,
        )

        return heartbeat
