#!/usr/bin/env python3
"""Reads a SPIFFE bundle or bundle map with py-spiffe and prints what it found, as JSON.

    inspect_bundles.py bundle <trust-domain> FILE   one trust domain's bundle
    inspect_bundles.py map FILE                      {"trust_domains": {<name>: <bundle>}}

py-spiffe parses trust domains, X.509 authorities (DER) and JWT authorities (a JWK Set,
through PyJWT); it has no reader for the SPIFFE bundle document itself, so this script
splits the JWK Set by `use` as the SPIFFE Trust Domain and Bundle specification says, and
hands each part to the library. Any departure from the format is an error (exit 1).
"""

import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from jwt.api_jwk import PyJWK
from spiffe import JwtBundle, TrustDomain, X509Bundle


def spki(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def whole_number(doc, name):
    value = doc.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        sys.exit(f"{name} must be a non-negative integer, not {value!r}")
    return value


def inspect(name, doc):
    trust_domain = TrustDomain(name)
    if trust_domain.name != name:
        sys.exit(f"{name!r} is not a bare, canonical trust domain name")
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        sys.exit(f"{name}: a bundle is an object with a keys array")
    x509_der, jwt_keys = [], []
    for i, key in enumerate(doc["keys"]):
        if key.get("use") == "x509-svid":
            x5c = key.get("x5c")
            if not isinstance(x5c, list) or len(x5c) != 1:
                sys.exit(f"{name} key {i}: x509-svid needs exactly one x5c certificate")
            der = base64.b64decode(x5c[0], validate=True)
            x509_der.append((i, der, key))
        elif key.get("use") == "jwt-svid":
            if not key.get("kid"):
                sys.exit(f"{name} key {i}: jwt-svid needs a kid")
            jwt_keys.append(key)
    x509 = X509Bundle.parse_raw(trust_domain, b"".join(der for _, der, _ in x509_der)) \
        if x509_der else X509Bundle(trust_domain, None)
    by_spki = {spki(cert.public_key()): cert for cert in x509.x509_authorities}
    for i, _, key in x509_der:
        # The JWK's own parameters must be the certificate's key.
        if spki(PyJWK(key).key) not in by_spki:
            sys.exit(f"{name} key {i}: the JWK parameters are not the certificate's key")
    jwt = JwtBundle.parse(trust_domain, json.dumps({"keys": jwt_keys}).encode()) \
        if jwt_keys else None
    kids = sorted(jwt.jwt_authorities) if jwt else []
    if kids != sorted(k["kid"] for k in jwt_keys):
        sys.exit(f"{name}: py-spiffe could not load every JWT authority ({kids})")
    return {
        "trust_domain": trust_domain.name,
        "x509_authorities": sorted(c.fingerprint(hashes.SHA256()).hex()
                                   for c in x509.x509_authorities),
        "jwt_authorities": kids,
        "spiffe_sequence": whole_number(doc, "spiffe_sequence"),
        "spiffe_refresh_hint": whole_number(doc, "spiffe_refresh_hint"),
    }


def main(args):
    if len(args) == 3 and args[0] == "bundle":
        with open(args[2], "rb") as f:
            report = inspect(args[1], json.load(f))
    elif len(args) == 2 and args[0] == "map":
        with open(args[1], "rb") as f:
            doc = json.load(f)
        domains = doc.get("trust_domains") if isinstance(doc, dict) else None
        if not isinstance(domains, dict):
            sys.exit('a bundle map is {"trust_domains": {...}}')
        report = {name: inspect(name, bundle) for name, bundle in domains.items()}
    else:
        sys.exit(__doc__)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
