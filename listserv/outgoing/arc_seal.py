"""The list's ARC set (RFC 8617) on a post's copies, signed with OpenSSL like our DKIM signatures.

dkimpy made the set with two RSA signatures in Python (~11 ms a post). The
set says what listserv.auth found of the post as it arrived (the
ARC-Authentication-Results), signs the copy's header fields and body
(ARC-Message-Signature: the h= of our DKIM signatures, the same body hash)
and seals the chain (ARC-Seal: every earlier set and this one, oldest
first; after a chain that failed, this set alone, cv=fail, which ends it).
A chain whose state is unknown (sets on the message, nothing checked) is not
continued, since a seal vouches for the sets before it. Every test verifies
the sets with dkimpy's arc_verify.
"""

from __future__ import annotations

import re
import time

from listserv.outgoing.dkim_signer import RSA, Field, Prepared, folded_names, chosen, signed_field, split

AAR, AMS, SEAL = b"arc-authentication-results", b"arc-message-signature", b"arc-seal"
SET_ORDER = (AAR, AMS, SEAL)  # the order the seal covers each set's fields in (RFC 8617 5.1.1)
INSTANCE = re.compile(rb"(?:^|;)\s*i\s*=\s*(\d+)")
MAX_INSTANCE = 50  # RFC 8617 4.2.1: a chain longer than this fails


def earlier_sets(fields: list[Field]) -> dict[int, dict[bytes, Field]]:
    """The ARC fields already on the message, by instance (i=) and lowercase name.

    >>> sets = earlier_sets([Field(b"ARC-Seal", b" i=1; cv=none; b=x"), Field(b"From", b" a@b.org")])
    >>> list(sets), list(sets[1])
    ([1], [b'arc-seal'])
    """
    found: dict[int, dict[bytes, Field]] = {}
    for field in fields:
        name = field.name.lower()
        match = INSTANCE.search(field.value.replace(b"\r\n", b"")) if name in SET_ORDER else None
        if match:
            found.setdefault(int(match.group(1)), {})[name] = field
    return found


def arc_set(prepared: Prepared, private: bytes, domain: str, selector: str, names: list[bytes], linesep: bytes,
            results: str, cv: str, now: float | None = None) -> bytes:
    """The three fields of this list's ARC set, ARC-Seal on top, each ending with linesep; b"" when the chain
    may not be continued (unknown state, or past MAX_INSTANCE sets).

    results: this server's Authentication-Results clauses ("dkim=...; spf=...; ..."); cv: the incoming
    chain as listserv.auth found it (none, pass, fail).
    """
    sets = earlier_sets(prepared.fields)
    instance = max(sets, default=0) + 1
    if instance > MAX_INSTANCE or (instance > 1 and cv == "none"):
        return b""
    cv = "none" if instance == 1 else cv
    stamp = b"t=%d" % int(time.time() if now is None else now)
    head = [b"i=%d" % instance, b"a=" + RSA]
    where = [b"d=" + domain.encode("ascii"), b"s=" + selector.encode("ascii"), stamp]
    clauses = [domain.encode("ascii"), *(clause.strip().encode("ascii") for clause in results.split(";"))]
    aar = b"ARC-Authentication-Results: i=%d; " % instance + (b";" + linesep + b" ").join(clauses) + linesep
    ams = signed_field(b"ARC-Message-Signature",
                       [*head, b"c=relaxed/relaxed", *where, b"h=" + folded_names(names, linesep),
                        b"bh=" + prepared.body_hash],
                       chosen(prepared.fields, names), RSA, private, linesep)
    earlier = [] if cv == "fail" else [sets[i][name] for i in sorted(sets) for name in SET_ORDER if name in sets[i]]
    new_fields, _ = split(aar + ams)
    seal = signed_field(b"ARC-Seal", [b"i=%d" % instance, b"cv=" + cv.encode("ascii"), b"a=" + RSA, *where],
                        earlier + new_fields, RSA, private, linesep)
    return seal + ams + aar
