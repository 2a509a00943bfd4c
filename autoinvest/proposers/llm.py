"""The LLM proposer: the official ``openai`` SDK against any OpenAI-compatible endpoint, under a call budget.

The model must answer with JSON that fits :data:`RESPONSE_SCHEMA` (``response_format`` json_schema, strict):
``{"proposals": [{"market", "side", "amount_eur", "confidence", "rationale"}]}`` — possibly an empty list.
``amount_eur`` is a *string* of a decimal number: money never passes through a float (the JSON is parsed with
``parse_float=Decimal`` too, and a JSON number where a string belongs is refused).

Anything malformed or out of policy — not JSON, a field missing or extra, a confidence outside {0, 25, 50, 75,
100}, a market outside the allowlist, an amount that is not positive or is outside the policy's order bounds,
a sell larger than the position — makes NO proposal at all (the whole answer is refused: a model that got one
item wrong is not trusted with the others). The refusal is returned as a :class:`Rejection` with a reason code
and logged as a structured record.

This module is the one place where openai errors become :class:`autoinvest.errors.LLMError`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import openai
from pydantic import BaseModel, ConfigDict, ValidationError

from autoinvest.domain.states import Side
from autoinvest.errors import LLMError
from autoinvest.observability import metrics
from autoinvest.proposers.base import (
    ProposalDraft,
    Proposals,
    Rejection,
    Snapshot,
    Source,
    quantize_base,
)
from autoinvest.proposers.budget import Budget
from autoinvest.reasons import LLM_BUDGET_EXHAUSTED

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0
CLOSES_IN_PROMPT = 20
_AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["proposals"],
    "properties": {
        "proposals": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["market", "side", "amount_eur", "confidence", "rationale"],
                "properties": {
                    "market": {"type": "string", "description": "one of the allowed markets, e.g. BTC-EUR"},
                    "side": {"type": "string", "enum": ["buy", "sell"]},
                    "amount_eur": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$",
                                   "description": "order value in EUR as a decimal string, e.g. \"25.00\""},
                    "confidence": {"type": "integer", "enum": [0, 25, 50, 75, 100]},
                    "rationale": {"type": "string"},
                },
            },
        },
    },
}

SYSTEM_PROMPT = (
    "You propose spot trades for one investment profile on the Bitvavo exchange. Answer only with JSON that fits "
    "the schema. Propose only markets from `allowed_markets`, amounts in EUR between `min_order_eur` and "
    "`max_order_eur` written as decimal strings, sells no larger than the position, and a confidence in "
    "{0, 25, 50, 75, 100}. Explain each proposal in one or two sentences. Propose nothing when unsure: "
    "an empty `proposals` list is a good answer."
)


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    market: str
    side: Literal["buy", "sell"]
    amount_eur: str
    confidence: Literal[0, 25, 50, 75, 100]
    rationale: str


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    proposals: list[_Item]


class _Refused(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.rejection = Rejection(reason, detail[:300])


def _reason_of(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if first["type"] == "extra_forbidden":
        return "EXTRA_FIELDS"
    if first["type"] == "missing":
        return "SCHEMA_INVALID"
    field = next((str(part) for part in reversed(first["loc"]) if isinstance(part, str)), "")
    return {"confidence": "CONFIDENCE_INVALID", "amount_eur": "AMOUNT_INVALID", "market": "MARKET_INVALID",
            "side": "SIDE_INVALID"}.get(field, "SCHEMA_INVALID")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_answer(content: str | None, snapshot: Snapshot) -> Proposals:
    """Validate the model's text against the schema and the policy: drafts, or one rejection and no draft."""
    try:
        return Proposals(tuple(_drafts(content, snapshot)))
    except _Refused as refused:
        return Proposals(rejections=(refused.rejection,))


def _drafts(content: str | None, snapshot: Snapshot) -> list[ProposalDraft]:
    if content is None or not content.strip():
        raise _Refused("EMPTY_OUTPUT")
    try:
        data = json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _Refused("NOT_JSON", str(exc)) from None
    try:
        answer = _Answer.model_validate(data, strict=True)
    except ValidationError as exc:
        raise _Refused(_reason_of(exc), str(exc.errors()[0].get("msg", ""))) from None
    return [_draft(item, snapshot) for item in answer.proposals]


def _draft(item: _Item, snapshot: Snapshot) -> ProposalDraft:
    limits = snapshot.limits
    if item.market not in limits.allowlist or item.market not in snapshot.markets:
        raise _Refused("MARKET_NOT_ALLOWED", item.market)
    if not _AMOUNT.match(item.amount_eur):
        raise _Refused("AMOUNT_INVALID", item.amount_eur)
    try:
        amount = Decimal(item.amount_eur)
    except InvalidOperation:
        raise _Refused("AMOUNT_INVALID", item.amount_eur) from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise _Refused("AMOUNT_INVALID", item.amount_eur)
    if amount > limits.max_order_eur:
        raise _Refused("AMOUNT_ABOVE_MAX", f"{amount} > {limits.max_order_eur}")
    if amount < limits.min_order_eur:
        raise _Refused("AMOUNT_BELOW_MIN", f"{amount} < {limits.min_order_eur}")
    rationale = item.rationale.strip()[:1000] or "(no rationale given)"
    if item.side == "buy":
        return ProposalDraft(market=item.market, side=Side.BUY, amount_eur=amount, confidence=item.confidence,
                             rationale=f"LLM: {rationale}")
    view = snapshot.markets[item.market]
    if view.price is None or view.price <= 0:
        raise _Refused("PRICE_UNKNOWN", item.market)
    base = quantize_base(amount / view.price, view.quantity_decimals)
    if base <= 0:
        raise _Refused("AMOUNT_INVALID", f"{amount} EUR is less than one unit of {item.market}")
    if base > snapshot.sellable(item.market):
        raise _Refused("SELL_ABOVE_POSITION", f"{base} > {snapshot.sellable(item.market)}")
    return ProposalDraft(market=item.market, side=Side.SELL, amount_base=base, confidence=item.confidence,
                         rationale=f"LLM: {rationale} (sell {amount} EUR at {view.price})")


def prompt(snapshot: Snapshot) -> str:
    """The user message: the snapshot as JSON, Decimals as strings."""
    limits = snapshot.limits
    return json.dumps({
        "scan_window": snapshot.scan_window.isoformat(), "candle_interval": snapshot.candle_interval,
        "eur_available": str(snapshot.eur_available), "allowed_markets": list(limits.allowlist),
        "min_order_eur": str(limits.min_order_eur), "max_order_eur": str(limits.max_order_eur),
        "allowed_confidences": list(limits.allowed_confidences),
        "markets": {name: {"price": None if v.price is None else str(v.price), "position": str(v.position),
                           "recent_closes": [str(c) for c in v.closes[-CLOSES_IN_PROMPT:]]}
                    for name, v in sorted(snapshot.markets.items())},
    }, separators=(",", ":"))


def make_client(base_url: str | None, api_key: str | None, *,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> openai.AsyncOpenAI:
    """One client per process. No SDK retries: every request must be a budgeted call."""
    return openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "not-set", max_retries=0, timeout=timeout_s)


@dataclass(frozen=True)
class Completion:
    content: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


async def complete(client: openai.AsyncOpenAI, model: str, snapshot: Snapshot) -> Completion:
    """One chat completion; every openai error becomes an LLMError (the only translation point)."""
    try:
        response = await client.chat.completions.create(
            model=model,
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt(snapshot)}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": "trade_proposals", "strict": True, "schema": RESPONSE_SCHEMA}},
        )
    except openai.APITimeoutError:
        raise LLMError("the LLM endpoint timed out", reason="LLM_TIMEOUT") from None
    except openai.APIConnectionError:
        raise LLMError("cannot reach the LLM endpoint", reason="LLM_UNAVAILABLE") from None
    except openai.RateLimitError:
        raise LLMError("the LLM endpoint rate-limited the call", reason="LLM_RATE_LIMITED") from None
    except (openai.AuthenticationError, openai.PermissionDeniedError):
        raise LLMError("the LLM endpoint refused the API key", reason="LLM_AUTH_FAILED") from None
    except openai.APIStatusError as exc:
        raise LLMError(f"the LLM endpoint answered HTTP {exc.status_code}", reason="LLM_HTTP_ERROR") from None
    except openai.OpenAIError as exc:
        raise LLMError(f"LLM call failed: {type(exc).__name__}", reason="LLM_ERROR") from None
    if not response.choices:
        return Completion(None, None, None)
    choice = response.choices[0]
    usage = response.usage
    content = choice.message.content if choice.finish_reason in ("stop", None) else None
    return Completion(content, usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None)


@dataclass(frozen=True)
class LlmProposer:
    """Reserve a call in the budget, ask the model, validate; a refused answer makes no proposal."""

    client: openai.AsyncOpenAI
    model: str
    budget: Budget

    @property
    def source(self) -> Source:
        return "llm"

    async def propose(self, snapshot: Snapshot) -> Proposals:
        reservation = await self.budget.reserve()
        if reservation is None:
            metrics.LLM_BUDGET_DENIED.inc()
            log.info("llm budget exhausted", extra={"profile_id": snapshot.profile_id,
                                                    "reason": LLM_BUDGET_EXHAUSTED})
            return Proposals(rejections=(Rejection(LLM_BUDGET_EXHAUSTED),))
        started = time.monotonic()
        try:
            answer = await complete(self.client, self.model, snapshot)
        except LLMError as exc:
            await self.budget.fail(reservation, latency_ms=_ms_since(started), outcome=exc.reason)
            metrics.LLM_CALLS.labels("error").inc()
            raise
        latency = _ms_since(started)
        metrics.LLM_LATENCY.observe(latency / 1000)
        result = parse_answer(answer.content, snapshot)
        outcome = "ok" if not result.rejections else f"rejected:{result.rejections[0].reason}"
        await self.budget.complete(reservation, prompt_tokens=answer.prompt_tokens,
                                   completion_tokens=answer.completion_tokens, latency_ms=latency, outcome=outcome)
        metrics.LLM_CALLS.labels("ok" if not result.rejections else "rejected").inc()
        for rejection in result.rejections:
            metrics.LLM_REJECTED.labels(rejection.reason).inc()
            log.warning("llm output rejected", extra={"profile_id": snapshot.profile_id, "reason": rejection.reason,
                                                      "detail": rejection.detail})
        return result


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
