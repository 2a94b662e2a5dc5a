"""What signing costs per message: DKIM (RSA 2048 + Ed25519) and the ARC seal of a post's copies, in process.

Usage: python bench/signing.py [--count 200]
Prints `name value unit` lines: the median milliseconds of listserv.outgoing.finish()
on a 5 KB post, signed only (a notice, a digest) and signed and sealed (a post);
then one RSA 2048 PKCS#1 v1.5 signature of a SHA-256 digest as dkimpy makes it
(dkim.crypto: Python integers, CRT) and as `cryptography` (OpenSSL) makes it,
which is what listserv.outgoing.dkim_signer and arc_seal now sign with.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import post  # noqa: E402
import dkim.crypto  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

from listserv import config, outgoing  # noqa: E402
from listserv.outgoing import keys  # noqa: E402

DOMAIN = "example.net"


def median_ms(settings: config.Settings, content: bytes, seal: bool, count: int) -> float:
    """The median time of one finish() over count runs, in milliseconds."""
    return _median_ms(lambda: outgoing.finish(settings, DOMAIN, content, seal), count)


def _median_ms(step, count: int) -> float:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def rsa_ms(count: int) -> tuple[float, float]:
    """Median ms of one RSA 2048 signature: dkimpy's own, and OpenSSL's through `cryptography`, same key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    parsed = dkim.crypto.parse_pem_private_key(pem)
    digest = hashlib.sha256(b"bench")
    ours = _median_ms(lambda: dkim.crypto.RSASSA_PKCS1_v1_5_sign(digest, parsed), count)
    theirs = _median_ms(lambda: key.sign(b"bench", padding.PKCS1v15(), hashes.SHA256()), count)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listserv-bench-") as tmp:
        base = config.Settings()
        settings = dataclasses.replace(base, storage=dataclasses.replace(base.storage, database=f"{tmp}/db"))
        keys.generate(settings, DOMAIN)
        content = post("member@example.net", "bench@example.net", "bench post")
        print(f"sign_dkim_ms {median_ms(settings, content, False, args.count):.3f} ms", flush=True)
        print(f"sign_ms {median_ms(settings, content, True, args.count):.3f} ms", flush=True)
    dkimpy, openssl = rsa_ms(args.count)
    print(f"rsa2048_sign_dkimpy_ms {dkimpy:.3f} ms", flush=True)
    print(f"rsa2048_sign_cryptography_ms {openssl:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
