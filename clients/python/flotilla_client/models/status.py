from enum import StrEnum


class Status(StrEnum):
    OFFLINE = "offline"
    READY = "ready"
    STALE = "stale"

    def __str__(self) -> str:
        return str(self.value)
