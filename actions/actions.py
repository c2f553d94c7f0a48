"""Rasa action classes: read the tracker, call the plain modules, return events.

Every action that answers ends with `FollowupAction("action_listen")`: when the action server
is down, Rasa gets no events, the rules in data/ then predict `utter_technical_problem`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import faq_reply, handoff, order_access, order_limits, order_prompts, orders
from actions import settings as action_settings
from common import sender_metadata
from common.feedback_log import FeedbackLog
from common.frustration import is_frustrated
from common.order_numbers import ORDER_NUMBER, normalise_order_number
from knowledge_base import service

log = logging.getLogger(__name__)
LISTEN: list[EventType] = [FollowupAction("action_listen")]
MAX_ORDER_NUMBER_TRIES = 2
NO_ORDER_NUMBER = "keine"
"""Set by validation when the customer left the order form (another intent, or two unusable answers)."""
ORDER_SLOTS = ("order_number", "order_verification", "order_phone_checked")
LEAVE_FORM_INTENTS = {
    "ask_question", "nlu_fallback", "request_human", "complain", "goodbye", "bot_challenge", "choose_faq"
}  # fmt: skip
ORDER_FORM = "order_status_form"


def _say(dispatcher: CollectingDispatcher, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        dispatcher.utter_message(**message)


def _slots(values: dict[str, Any]) -> list[EventType]:
    return [SlotSet(name, value) for name, value in values.items()]


def _user_texts(tracker: Tracker) -> list[str]:
    return [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]


def handoff_events(tracker: Tracker, dispatcher: CollectingDispatcher, reason: str) -> list[EventType]:
    """Tell the customer, hand the agent a payload, listen on (a form in progress ends).

    The customer hears at most a short reason; that the question goes on, and whether and when someone is there,
    the gateway says in one message with it.
    Rasa is not paused: while the customer waits for an agent the gateway still asks the bot and keeps only
    confident answers, and once an agent has taken the conversation the gateway sends Rasa nothing."""
    candidates = tracker.get_slot("kb_candidates") or []
    last = tracker.get_slot("last_faq_id")
    answered = service.shared().knowledge_base().entries.get(last) if last else None  # the agent reads its question
    summary = handoff.summarise(reason, _user_texts(tracker), answered.question if answered else last)
    if note := tracker.get_slot("handoff_note"):
        summary = f"{summary} {note}"
    if text := handoff.CUSTOMER_TEXT[reason]:
        dispatcher.utter_message(text=text)
    last_question = tracker.get_slot("last_question") or tracker.latest_message.get("text")
    dispatcher.utter_message(json_message=handoff.handoff_payload(reason, candidates, summary, last_question))
    log.info("handoff %s for %s", reason, tracker.sender_id)
    events: list[EventType] = [
        SlotSet("pending", None),
        SlotSet("failed_attempts", 0.0),
        SlotSet("handoff_reason", reason),
        SlotSet("handoff_note", None),
    ]
    if tracker.active_loop.get("name"):
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    return [*events, *LISTEN]


def frustration_events(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(response="utter_frustration")
    return [SlotSet("pending", "human"), SlotSet("handoff_reason", "frustration"), *LISTEN]


def feedback_events(tracker: Tracker, dispatcher: CollectingDispatcher, helpful: bool, kind: str) -> list[EventType]:
    """Record the verdict; a second failure in a row hands off, a first one offers a human."""
    question = tracker.get_slot("last_question")
    feedback_log = FeedbackLog()  # where common/feedback_log.py says: the shared database or the local file
    if kind == "none_of_these":
        for candidate in tracker.get_slot("kb_candidates") or []:
            feedback_log.record(tracker.sender_id, candidate.get("faq_id"), False, kind, question)
    else:
        feedback_log.record(tracker.sender_id, tracker.get_slot("last_faq_id"), helpful, kind, question)
    if helpful:
        dispatcher.utter_message(response="utter_feedback_thanks")
        return [SlotSet("pending", None), SlotSet("failed_attempts", 0.0), *LISTEN]
    failed = (tracker.get_slot("failed_attempts") or 0.0) + 1
    if failed >= 2:
        return handoff_events(tracker, dispatcher, "repeated_failure")
    dispatcher.utter_message(response="utter_offer_human")
    offer = [SlotSet("pending", "human"), SlotSet("handoff_reason", "requested")]
    return [*offer, SlotSet("failed_attempts", failed), *LISTEN]


def answer_events(tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType]:
    """The latest message goes to the knowledge base (frustration first gets an apology)."""
    text = tracker.latest_message.get("text") or ""
    if is_frustrated(text):
        return frustration_events(dispatcher)
    reply = faq_reply.plan_answer(
        service.shared().knowledge_base(), text, tracker.get_slot("topic"), tracker.get_slot("failed_attempts") or 0.0
    )
    _say(dispatcher, reply.messages)
    if reply.decision:
        dispatcher.utter_message(json_message=reply.decision)
    events = _slots(reply.slots)
    if reply.handoff_reason:
        tracker.slots.update(reply.slots)
        return events + handoff_events(tracker, dispatcher, reply.handoff_reason)
    return [*events, *LISTEN]


class ActionAnswerFaq(Action):
    """A question (or anything NLU could not place) goes to the knowledge base."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return answer_events(tracker, dispatcher)


def choose_events(tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType]:
    """Answer the FAQ entry a button named (a "Meinten Sie …?" option, or the tracking FAQ beside the order form)."""
    entry = service.shared().knowledge_base().entries.get(tracker.get_slot("faq_id") or "")
    if entry is None:
        dispatcher.utter_message(response="utter_rephrase")
        return [SlotSet("faq_id", None), *LISTEN]
    reply = faq_reply.answer_reply(entry, entry.question)
    reply.slots["kb_candidates"] = tracker.get_slot("kb_candidates")
    _say(dispatcher, reply.messages)
    dispatcher.utter_message(
        json_message=faq_reply.decision_payload("chosen", tracker.get_slot("last_question") or "", faq_id=entry.id)
    )
    return [*_slots(reply.slots), SlotSet("faq_id", None), *LISTEN]


class ActionChooseFaq(Action):
    """A "Meinten Sie …?" button: answer the chosen entry."""

    def name(self) -> str:
        return "action_choose_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return choose_events(tracker, dispatcher)


class ActionFeedback(Action):
    """The Ja/Nein buttons under an answer and the "Nichts davon" button."""

    def name(self) -> str:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent = tracker.get_intent_of_latest_message()
        if intent == "none_of_these":
            return feedback_events(tracker, dispatcher, False, "none_of_these")
        return feedback_events(tracker, dispatcher, intent == "feedback_helpful", "button")


class ActionConfirm(Action):
    """A typed "ja"/"nein" answers whatever the bot asked last (feedback or the offer of a human)."""

    def name(self) -> str:
        return "action_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        yes = tracker.get_intent_of_latest_message() == "affirm"
        pending = tracker.get_slot("pending")
        if pending == "feedback":
            return feedback_events(tracker, dispatcher, yes, "typed")
        if pending == "human" and yes:
            return handoff_events(tracker, dispatcher, tracker.get_slot("handoff_reason") or "requested")
        dispatcher.utter_message(response="utter_no_human_then" if pending == "human" else "utter_how_can_i_help")
        return [SlotSet("pending", None), *LISTEN]


class ActionHandoff(Action):
    """The customer asked for a human."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return handoff_events(tracker, dispatcher, "requested")


class ActionFrustration(Action):
    """Apologise without admitting fault and offer a human."""

    def name(self) -> str:
        return "action_frustration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return frustration_events(dispatcher)


def verified_phone(tracker: Tracker) -> str | None:
    """The sender's phone as the gateway vouches for it (an SMS), from the latest message's metadata."""
    return sender_metadata.read(tracker.latest_message.get("metadata"), sender_metadata.VERIFIED_PHONE)


class ValidateOrderStatusForm(FormValidationAction):
    """Accept `LG-123456` in any spelling, then the postcode or e-mail; after two misses, stop asking.

    Nothing is looked up here: the number step must not reveal whether an order exists. A sender with a verified
    phone is asked the number only; if that phone does not own the order, `action_order_status` sets
    `order_phone_checked` and the form asks the second factor after all."""

    def name(self) -> str:
        return "validate_order_status_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("order_number") == NO_ORDER_NUMBER or (
            verified_phone(tracker) and not tracker.get_slot("order_phone_checked")
        ):  # the customer left at the number step; or a verified phone, checked by the action first
            return [slot for slot in domain_slots if slot != "order_verification"]
        return domain_slots

    @staticmethod
    def _miss(tracker: Tracker, dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any]:
        """An unusable answer: leave the form for another intent or the second miss, else ask again."""
        if tracker.get_intent_of_latest_message() in LEAVE_FORM_INTENTS:
            return {slot: NO_ORDER_NUMBER, "order_attempts": 0.0}
        tries = (tracker.get_slot("order_attempts") or 0.0) + 1
        if tries >= MAX_ORDER_NUMBER_TRIES:
            return {slot: NO_ORDER_NUMBER, "order_attempts": 0.0}
        dispatcher.utter_message(response=f"utter_invalid_{slot}")
        return {slot: None, "order_attempts": tries}

    def validate_order_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The number; a postcode or e-mail in the same message ("LG-123456, 10115") answers the next question."""
        if number := normalise_order_number(str(slot_value or "")):
            found = {"order_number": number, "order_attempts": 0.0}
            rest = ORDER_NUMBER.sub(" ", tracker.latest_message.get("text") or "")
            if not tracker.get_slot("order_verification") and (factor := order_access.read_factor(rest)):
                found["order_verification"] = factor.value
            return found
        return self._miss(tracker, dispatcher, "order_number")

    def validate_order_verification(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if factor := order_access.read_factor(str(slot_value or "")):
            return {"order_verification": factor.value, "order_attempts": 0.0}
        return self._miss(tracker, dispatcher, "order_verification")


def started_order_request(tracker: Tracker) -> bool:
    """Whether the latest customer message started the order form (rather than answered one of its questions)."""
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    active = None
    for event in events[:last_user]:
        if event.get("event") == "active_loop":
            active = event.get("name")
        elif event.get("event") == "session_started":
            active = None
    return active != ORDER_FORM


def order_faq_button() -> dict[str, str] | None:
    """The general tracking FAQ as a button (the entry's own question as its title); None if the FAQ lacks it."""
    entry = service.shared().knowledge_base().entries.get(action_settings.current().order_help_faq_id)
    return {"title": entry.question, "payload": faq_reply.choose_faq_payload(entry.id)} if entry else None


class ActionAskOrderNumber(Action):
    """The order form's first question: understanding first, the number and the proof of ownership at once, the
    tracking FAQ as a button (actions/order_prompts.py)."""

    slot = "order_number"

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        first = started_order_request(tracker)
        message = order_prompts.ask(
            self.slot,
            tracker.latest_message.get("text") or "",
            first=first,
            factor_needed=not verified_phone(tracker),
            faq_button=order_faq_button() if first else None,
        )
        dispatcher.utter_message(**message)
        return []


class ActionAskOrderVerification(ActionAskOrderNumber):
    """The proof of ownership, when the number came alone (or in the question that started the request)."""

    slot = "order_verification"


class ActionOrderStatus(Action):
    """Tell the order's status to its owner: the second factor matches, or the verified SMS sender's phone does.

    An unknown number and a wrong factor get one answer (`orders.NOT_FOUND_TEXT`). Failed proofs per conversation
    and look-ups per client are limited (actions/order_limits.py); a throttled customer is offered a human."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock
        """What "today" is read from (Berlin time); tests pass a fixed one."""

    def name(self) -> str:
        return "action_order_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        number = tracker.get_slot("order_number")
        factor = tracker.get_slot("order_verification")
        done: list[EventType] = [*(SlotSet(slot, None) for slot in ORDER_SLOTS), *LISTEN]
        if NO_ORDER_NUMBER in (number, factor) or not number:
            return [*done[:-1], *self._instead(tracker, dispatcher)]
        return self._look_up(tracker, dispatcher, number, factor, done)

    def _status(self, dispatcher: CollectingDispatcher, order: orders.Order, done: list[EventType]) -> list[EventType]:
        """The status, reading the expected day against today; an overdue delivery comes with the next step."""
        today = orders.today(self.clock)
        dispatcher.utter_message(text=orders.describe(order, today))
        if not orders.is_overdue(order, today):
            return done
        log.info("order look-up: delivery overdue")
        note = SlotSet("handoff_note", orders.overdue_note(order))
        return [note, *_offer_human(dispatcher, done, orders.overdue_next_step(order), "delivery_overdue", asks=True)]

    @staticmethod
    def _instead(tracker: Tracker, dispatcher: CollectingDispatcher) -> list[EventType]:
        """The customer left the form: answer what they said instead, or offer a human."""
        intent = tracker.get_intent_of_latest_message()
        if intent == "request_human":
            return handoff_events(tracker, dispatcher, "requested")
        if intent == "complain":
            return frustration_events(dispatcher)
        if intent in ("ask_question", "nlu_fallback"):
            return answer_events(tracker, dispatcher)
        if intent == "choose_faq":
            return choose_events(tracker, dispatcher)
        if intent in ("goodbye", "bot_challenge"):
            dispatcher.utter_message(response="utter_goodbye" if intent == "goodbye" else "utter_iamabot")
            return LISTEN
        return _offer_human(dispatcher, [])

    def _look_up(
        self, tracker: Tracker, dispatcher: CollectingDispatcher, number: str, factor: str | None, done: list[EventType]
    ) -> list[EventType]:
        throttle = order_limits.shared()
        conversation = tracker.sender_id
        metadata = tracker.latest_message.get("metadata")
        client = order_limits.client_key(sender_metadata.read(metadata, sender_metadata.CLIENT_KEY), conversation)
        if not throttle.may_fail_again(conversation) or not throttle.allow_lookup(client):
            log.warning("order look-up throttled for %s", conversation)
            return _offer_human(dispatcher, done, orders.THROTTLED_TEXT)
        try:
            order = orders.order_backend().lookup(number)
        except orders.OrderBackendError as error:
            log.warning("order lookup failed: %s", error)
            return _offer_human(dispatcher, done, orders.UNAVAILABLE_TEXT)
        proof = order_access.read_factor(factor)
        if order is not None and (
            (proof is not None and order_access.proves(order, proof))
            or order_access.owned_by_phone(order, verified_phone(tracker))
        ):
            return self._status(dispatcher, order, done)
        if proof is None:  # a verified phone that does not own the number: ask the second factor after all
            return [SlotSet("order_phone_checked", True), FollowupAction("order_status_form")]
        if throttle.record_failure(conversation):
            dispatcher.utter_message(text=orders.NOT_FOUND_TEXT)
            return done
        log.warning("order look-up: last failed proof allowed for %s", conversation)
        return _offer_human(dispatcher, done, orders.NOT_FOUND_TEXT)


YES_NO = [{"title": "Ja, bitte", "payload": "/affirm"}, {"title": "Nein, danke", "payload": "/deny"}]


def _offer_human(
    dispatcher: CollectingDispatcher,
    done: list[EventType],
    text: str | None = None,
    reason: str = "requested",
    asks: bool = False,
) -> list[EventType]:
    """`text` (if any), then "Soll ich Ihr Anliegen an unseren Kundenservice geben?" with Ja/Nein; `asks`: the text
    ends with its own such question and carries the buttons. A "ja" then hands off with `reason`."""
    if asks:
        dispatcher.utter_message(text=text, buttons=YES_NO)
    else:
        if text:
            dispatcher.utter_message(text=text)
        dispatcher.utter_message(response="utter_offer_human")
    return [SlotSet("pending", "human"), SlotSet("handoff_reason", reason), *(done or LISTEN)]


class ActionGreet(Action):
    """A greeting back, unless the channel greeted already (the widget does, at once): then a short invitation to
    ask, so the conversation starts with one greeting (common/sender_metadata.py `CHANNEL_GREETED`)."""

    def name(self) -> str:
        return "action_greet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        greeted = sender_metadata.read(tracker.latest_message.get("metadata"), sender_metadata.CHANNEL_GREETED)
        dispatcher.utter_message(response="utter_invite_question" if greeted else "utter_greet")
        return LISTEN


class ActionWarmUp(Action):
    """Loads the knowledge base; the process runner calls it once so the first customer does not wait."""

    def name(self) -> str:
        return "action_warm_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # the first encode initialises torch and spaCy
        service.shared().knowledge_base().ask("Wie lange dauert die Lieferung?")
        return []
