"""moto's server, with two fixes to its Route 53 so that it creates and deletes as AWS does.

moto 5.2.5:
- handles a DELETE that carries a SetIdentifier by removing every record set in the zone with
  that identifier, whatever its name and type. Flotilla's identifiers are regions and cluster
  names, shared by every host, so one host's DELETE would wipe the same region or cluster
  from every other host. Here it removes only the set with its name, type and identifier.
- refuses a CREATE when an identical CREATE is in its change journal and any record set sorts
  after that name, even if the set was deleted since; so an endpoint that leaves DNS could
  never come back. And it accepts a CREATE over an existing set with other values. Here a
  CREATE is refused exactly when a set with its name, type and identifier exists.
Everything else is moto as released.
"""

import sys
import threading

from moto.route53 import models
from moto.route53.exceptions import ResourceRecordAlreadyExists
from moto.server import main

_batch = threading.local()
_change_resource_record_sets = models.Route53Backend.change_resource_record_sets


def _name(rrset):
    return rrset["Name"] if rrset["Name"].endswith(".") else rrset["Name"] + "."


def change_resource_record_sets(self, zoneid, change_list):
    zone = self.get_hosted_zone(zoneid)
    for change in change_list:
        rrset = change["ResourceRecordSet"]
        if change["Action"] == "CREATE":
            exists = any(
                r.name == _name(rrset) and r.type == rrset["Type"]
                and r.set_identifier == rrset.get("SetIdentifier")
                for r in zone.rrsets
            )
            if exists:
                raise ResourceRecordAlreadyExists(name=_name(rrset), _type=rrset["Type"])
            # Known not to exist: moto's own (journal-based) check must not run.
            change["Action"] = "UPSERT"
    _batch.deletes = [
        c["ResourceRecordSet"]
        for c in change_list
        if c["Action"] == "DELETE" and "SetIdentifier" in c["ResourceRecordSet"]
    ]
    try:
        return _change_resource_record_sets(self, zoneid, change_list)
    finally:
        _batch.deletes = []


def delete_rrset_by_id(self, set_identifier):
    # moto calls this once per DELETE with a SetIdentifier, in the batch's order.
    rrset = _batch.deletes.pop(0)
    self.rrsets = [
        r
        for r in self.rrsets
        if not (r.name == _name(rrset) and r.type == rrset["Type"] and r.set_identifier == set_identifier)
    ]


models.Route53Backend.change_resource_record_sets = change_resource_record_sets
models.FakeZone.delete_rrset_by_id = delete_rrset_by_id

if __name__ == "__main__":
    sys.exit(main())
