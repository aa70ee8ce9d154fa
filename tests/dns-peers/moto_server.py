"""moto's server, with one fix to its Route 53 so that it deletes what AWS deletes.

moto 5.2.5 handles a DELETE that carries a SetIdentifier by removing every record set in the
zone with that identifier, whatever its name and type. Flotilla's identifiers are regions and
cluster names, shared by every host, so one host's DELETE would wipe the same region or cluster
from every other host. Here such a DELETE removes only the set with its name, type and
identifier, as Route 53 does. Everything else is moto as released.
"""

import sys
import threading

from moto.route53 import models
from moto.server import main

_batch = threading.local()
_change_resource_record_sets = models.Route53Backend.change_resource_record_sets


def change_resource_record_sets(self, zoneid, change_list):
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
    name = rrset["Name"] if rrset["Name"].endswith(".") else rrset["Name"] + "."
    self.rrsets = [
        r
        for r in self.rrsets
        if not (r.name == name and r.type == rrset["Type"] and r.set_identifier == set_identifier)
    ]


models.Route53Backend.change_resource_record_sets = change_resource_record_sets
models.FakeZone.delete_rrset_by_id = delete_rrset_by_id

if __name__ == "__main__":
    sys.exit(main())
