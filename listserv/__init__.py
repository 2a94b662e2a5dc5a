"""listserv: a members-only mailing list server that keeps confidential threads confidential."""

__version__ = "0.1.0"
