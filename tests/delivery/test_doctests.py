"""The doctest examples in the delivery modules hold (address encoding, URL refusal, retry delays)."""

from __future__ import annotations

import doctest

import pytest

import listserv.delivery
import listserv.delivery.smtp
import listserv.delivery.worker


@pytest.mark.parametrize("module", [listserv.delivery, listserv.delivery.smtp, listserv.delivery.worker])
def test_doctests_pass(module):
    """Every example in the module's docstrings gives the output it shows."""
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0
