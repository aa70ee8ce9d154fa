from enum import StrEnum


class Action(StrEnum):
    CREATE = "CREATE"
    DELETE = "DELETE"
    UPSERT = "UPSERT"

    def __str__(self) -> str:
        return str(self.value)
