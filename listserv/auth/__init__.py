"""Inbound authentication: who really wrote a post (DKIM, SPF from a trusted MTA, DMARC), and the DMARC
policy of an author's domain, which also decides how the list rewrites From: (listserv.pipeline.decorate)."""
