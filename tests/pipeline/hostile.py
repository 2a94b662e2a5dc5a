"""Builders of hostile posts for the limits tests: many parts, deep nesting, a huge header block."""

from __future__ import annotations

from .conftest import compose


def many_parts(count: int, sender: str = "Ann Member <ann@example.org>", subject: str = "Many parts") -> bytes:
    """A multipart/mixed post with `count` one-line text/plain parts (count + 1 MIME parts in all)."""
    head = compose(sender=sender, subject=subject, body="", headers=(
        ("MIME-Version", "1.0"), ("Content-Type", 'multipart/mixed; boundary="cut"'),
    ))
    parts = b"".join(b"--cut\nContent-Type: text/plain\n\npart %d\n" % n for n in range(count))
    return head + parts + b"--cut--\n"


def nested(depth: int, subject: str = "Deep") -> bytes:
    """A post of `depth` multiparts each inside the last, with one text part at the bottom."""
    head = compose(subject=subject, body="", headers=(
        ("MIME-Version", "1.0"), ("Content-Type", 'multipart/mixed; boundary="b0"'),
    ))
    level = b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n'
    opening = b"".join(level % (n, n + 1) for n in range(depth - 1))
    bottom = b"--b%d\nContent-Type: text/plain\n\nthe bottom\n" % (depth - 1)
    closing = b"".join(b"--b%d--\n" % n for n in reversed(range(depth)))
    return head + opening + bottom + closing


def big_part_header(size: int) -> bytes:
    """A two-part post whose second part's Content-Type is folded over more than `size` bytes."""
    folded = "".join(f"\n x{n}=y;" for n in range(size // 8 + 1))
    head = compose(subject="Big part header", body="", headers=(
        ("MIME-Version", "1.0"), ("Content-Type", 'multipart/mixed; boundary="cut"'),
    ))
    parts = f"--cut\nContent-Type: text/plain\n\nfirst\n--cut\nContent-Type: text/plain;{folded}\n\nsecond\n--cut--\n"
    return head + parts.encode()


def big_header(size: int, subject: str = "Big header") -> bytes:
    """A post whose header block is over `size` bytes: many X-Filler lines."""
    lines = tuple(("X-Filler", "f" * 70) for _ in range(size // 80 + 1))
    return compose(subject=subject, headers=lines)
