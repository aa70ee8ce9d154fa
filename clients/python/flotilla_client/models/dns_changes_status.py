from enum import StrEnum


class DnsChangesStatus(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    PENDING = "pending"
    QUARANTINED = "quarantined"

    def __str__(self) -> str:
        return str(self.value)
