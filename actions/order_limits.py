"""How often order look-ups may be tried: failed proofs per conversation, all look-ups per client.

A second factor (actions/order_access.py) has few values — a postcode is five digits — so guessing it must be slow:
`AUSKUNFT_LIMIT_ORDER_FAILURES_PER_CONVERSATION` (default "3 per hour") counts wrong number/postcode/e-mail
combinations per conversation (Rasa's sender id), `AUSKUNFT_LIMIT_ORDER_LOOKUPS_PER_CLIENT` (default "10 per hour")
every look-up per client, so that new conversations gain nothing: the client is the gateway's pseudonym of the
widget's address or the Messenger/SMS address (common/sender_metadata.py), else the sender id. Both in
Flask-Limiter's notation, checked when the action server starts. Counted with the `limits` library (moving window)
in Redis when `AUSKUNFT_REDIS_URL` is set — the gateway's limits use the same — else in this process; when Redis
does not answer, this process counts meanwhile rather than letting every attempt through.
"""

from __future__ import annotations

import logging
from functools import cache

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from actions.settings import ActionServerSettings, current

log = logging.getLogger(__name__)
LOOKUPS = "auskunft-order-lookups"
FAILURES = "auskunft-order-failures"


def client_key(pseudonym: str | None, sender_id: str) -> str:
    """Whom the per-client limit counts: the gateway's pseudonym, else (Rasa asked directly) the conversation."""
    return f"client:{pseudonym}" if pseudonym else f"sender:{sender_id}"


class OrderThrottle:
    def __init__(self, settings: ActionServerSettings) -> None:
        self.lookups = parse_many(settings.limit_order_lookups_per_client)
        self.failures = parse_many(settings.limit_order_failures_per_conversation)
        url = settings.redis_url.get_secret_value()
        self.limiter = MovingWindowRateLimiter(storage_from_string(url or "memory://"))
        self.fallback = MovingWindowRateLimiter(MemoryStorage())

    def _all(self, method: str, items: list[RateLimitItem], *identifiers: str) -> bool:
        """`hit` or `test` every item (all are hit even when one is spent, as Flask-Limiter does)."""
        try:
            return all([getattr(self.limiter, method)(item, *identifiers) for item in items])
        except Exception as error:  # Redis down or refusing: count here meanwhile
            log.warning("order limits: storage failed (%s), counting in this process", type(error).__name__)
            return all([getattr(self.fallback, method)(item, *identifiers) for item in items])

    def allow_lookup(self, client: str) -> bool:
        """Counts one look-up for the client; False when the client has used up its look-ups."""
        return self._all("hit", self.lookups, LOOKUPS, client)

    def may_fail_again(self, conversation: str) -> bool:
        """Whether this conversation has failed proofs left (nothing is counted)."""
        return self._all("test", self.failures, FAILURES, conversation)

    def record_failure(self, conversation: str) -> bool:
        """Counts a failed proof; False when it was the conversation's last one allowed."""
        self._all("hit", self.failures, FAILURES, conversation)
        return self.may_fail_again(conversation)


@cache
def shared() -> OrderThrottle:
    """One throttle per action server process, made on first use."""
    return OrderThrottle(current())
