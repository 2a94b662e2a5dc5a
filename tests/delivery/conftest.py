"""Delivery fixtures: a watching sink, a list, queued posts, and workers that are always stopped."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from listserv.config import DeliverySettings
from listserv.delivery.smtp import SmtpTransport
from listserv.delivery.worker import DeliveryWorker
from listserv.store import lists as store_lists
from listserv.store import outbound
from tests.conftest import free_port
from tests.delivery.helpers import BOUNCES, LIST, POST, Clock, WatchingSink


@pytest.fixture
def make_sink():
    """Start a WatchingSink (aiosmtpd keyword arguments pass through, e.g. enable_SMTPUTF8=True)."""
    started: list[Controller] = []

    def start(**smtp_options) -> WatchingSink:
        handler = WatchingSink()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_options)
        controller.start()
        handler.port = controller.port
        handler.loop = controller.loop
        started.append(controller)
        return handler

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def watching(make_sink) -> WatchingSink:
    return make_sink()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def list_id(store) -> int:
    return await store.write(store_lists.create, LIST, "Team", {})


@pytest.fixture
def queue_post(store, list_id):
    """queue_post(recipients, batch_size) -> outbound message id, as the pipeline queues a post."""

    async def enqueue(recipients, batch_size=500, content=POST, mail_from=BOUNCES, into=None):
        return await (into or store).write(outbound.enqueue, list_id, mail_from, content, list(recipients), batch_size)

    return enqueue


@pytest.fixture
async def make_worker(store):
    """make_worker(settings, **kwargs) -> DeliveryWorker on the test store; every one is stopped afterwards."""
    workers: list[DeliveryWorker] = []

    def make(settings, **kwargs) -> DeliveryWorker:
        worker = DeliveryWorker(store, settings, **kwargs)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        await worker.stop(grace=1.0)


@pytest.fixture
async def transport_to():
    """transport_to(port) -> SmtpTransport with one connection; every one is closed afterwards."""
    made: list[SmtpTransport] = []

    def make(port: int) -> SmtpTransport:
        made.append(SmtpTransport("127.0.0.1", port, DeliverySettings(connections=1, timeout=5)))
        return made[-1]

    yield make
    for transport in made:
        await transport.close()
