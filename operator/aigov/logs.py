"""Structured JSON logs for aigov and for kopf's stdlib loggers, through one formatter.

Every line on stdout is one JSON object, so a log pipeline can index decisions without
parsing prose. Secrets never reach a log: certificates and tokens are not logged anywhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

import orjson
import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(level: str = "INFO") -> None:
    """Route structlog and stdlib logging (kopf, aiohttp) to JSON lines on stdout."""
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _drop_unserialisable,
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp logs every request, and kopf every handler success, at INFO: the decision log
    # already records each admission in one line, so these would only double the volume.
    if logging.getLevelName(level) > logging.DEBUG:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)


# kopf attaches its whole OperatorSettings and an internal flag to object log records.
_KOPF_NOISE = ("settings", "k8s_skip")


def _drop_unserialisable(
    _logger: object, _name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """kopf passes objects in `extra` (k8s_ref is a dict, settings are not): keep it JSON."""
    for key in _KOPF_NOISE:
        event.pop(key, None)
    for key, value in list(event.items()):
        if not isinstance(value, str | int | float | bool | list | dict | type(None)):
            event[key] = str(value)
    return event


def get(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger for `name`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def line(logger: str, event: str, **fields: Any) -> None:
    """Write one INFO record straight to stdout as a JSON line, in the same shape as the
    structlog records above, without structlog's processor chain.

    For the one record per admission decision: it is written on the request's hot path, and
    the full chain (context merge, formatter, stdlib handler) costs several times the
    decision itself. Fields must be JSON values (strings, numbers, lists, dicts, None).
    """
    record = {
        "event": event,
        "level": "info",
        "logger": logger,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        **fields,
    }
    sys.stdout.buffer.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
    sys.stdout.flush()
