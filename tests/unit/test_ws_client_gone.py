"""A subscription client that closes while its operation's last message is sent is
not a server error (interfaces/api/websocket.py). Under load, strawberry logged such
a send's ClientDisconnected at error level with a traceback, and the input-trust
test that no client mistake logs an error failed."""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.utils import ClientDisconnected

from interfaces.api.websocket import _client_went_away, handler_classes


def handler():
    transport, _ = handler_classes(executions=None)  # unused by the error handling
    return object.__new__(transport)  # only its error handling is exercised


def raised_from(cause: BaseException) -> Exception:
    try:
        try:
            raise cause
        except BaseException as error:
            raise RuntimeError("send failed") from error
    except RuntimeError as wrapped:
        return wrapped


def test_a_gone_client_is_recognised_through_the_chain():
    assert _client_went_away(ClientDisconnected())
    assert _client_went_away(raised_from(ClientDisconnected()))
    assert not _client_went_away(raised_from(ValueError("a bug")))
    assert not _client_went_away(None)


def test_a_gone_client_is_not_logged_as_an_error_and_a_bug_still_is(caplog):
    caplog.set_level(logging.INFO)
    asyncio.run(handler().handle_task_exception(ClientDisconnected()))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    asyncio.run(handler().handle_task_exception(ValueError("a bug")))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["strawberry.ws.task"]
