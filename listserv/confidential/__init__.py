"""Confidential threads: every rule that decides what is confidential and who may see it, in one package.

- markers: pure functions over a message (headers, enclosed parts, quoted
  headers, any transfer encoding): the tag, Sensitivity, the Message-IDs it
  refers to. The pipeline, `archive import`, -owner forwarding, bounce
  handling and the email commands all call these, so they cannot disagree.
- thread: is a message in a confidential thread (the store's record and the
  thread map); propagation and late re-marking of every stored copy.
- guard: the reply-all leak guard (outside To/Cc) and the forwarding guard
  (owner mail and bounces go to entitled owners only).
- copy: how a confidential copy looks (tag, Sensitivity, notice, headers).

Retention (purging stored confidential text) is listserv.archive.retention.
"""
