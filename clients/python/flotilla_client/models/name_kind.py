from enum import StrEnum


class NameKind(StrEnum):
    ACCOUNT = "account"
    CLUSTER = "cluster"

    def __str__(self) -> str:
        return str(self.value)
