from enum import StrEnum


class Outcome(StrEnum):
    CREATED = "created"
    ROTATED = "rotated"
    UNCHANGED = "unchanged"
    UPDATED = "updated"

    def __str__(self) -> str:
        return str(self.value)
