"""Telling a worker about their task: the page's push travels with the change stream; this
is the other path, a message gateway (SMS, WeCom) for a phone whose page is closed.

A site plugs in its gateway; the default writes each message to the log, so a demo and a
site without a gateway still show what would have been sent and to whom.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from dispatch.privacy.mask import mask_phone
from dispatch.workers.models import Worker

log = logging.getLogger("grid_dispatch.gateway")


@dataclass(frozen=True, slots=True)
class Message:
    worker_id: str
    phone: str
    text: str


class Gateway(Protocol):
    def send(self, message: Message) -> None: ...


class LogGateway:
    """Writes each message to the log (phone masked: logs are read by many)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)
        del self.sent[:-100]  # the last hundred, for the admin's eye and for tests
        log.info("message to %s (%s): %s", message.worker_id, mask_phone(message.phone),
                 message.text)


class Notifier:
    def __init__(self, *, gateway: Gateway) -> None:
        self.gateway = gateway

    def assigned(self, worker: Worker, task: dict[str, Any]) -> None:
        limit = f"{task['accept_minutes']} 分钟" if task.get("accept_minutes") else "规定时间"
        self.gateway.send(Message(worker.id, worker.phone,
                                  f"【网格调度】新任务 {task['event']}，请在{limit}内接单。"))

    def escalated(self, leader: Worker | None, task: dict[str, Any], *, tier: str) -> None:
        if leader is None:  # the street centre: its operators see it on the board
            log.info("task %s not accepted: escalated to the %s tier", task["id"], tier)
            return
        self.gateway.send(Message(leader.id, leader.phone,
                                  f"【网格调度】任务 {task['id']} 派给 {task['worker']['name']} "
                                  f"后超时未接单，请督办。"))

    def drill_called(self, worker: Worker, *, title: str, point: str, minutes: float) -> None:
        """A muster has started: go to the point (an exercise, and the message says so)."""
        self.gateway.send(Message(worker.id, worker.phone,
                                  f"【应急演练】{title}：请于 {minutes:g} 分钟内到达 {point} 集结。"
                                  "（演练，非真实事件）"))
