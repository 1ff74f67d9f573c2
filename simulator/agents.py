"""Persona agents: autogen-agentchat AssistantAgents over a model client of our own.

`BatchedChatClient` is an autogen `ChatCompletionClient` whose `create()` turns autogen messages
into chat messages and sends one `GenerationRequest` through the `RequestBatcher`, where it joins
the requests of every other running conversation. `PersonaAgent` wraps an `AssistantAgent` with a
persona's system prompt and plays one turn at a time: optionally choosing the action type by
scoring the options, then generating, then parsing the reply into an action.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken
from autogen_core.model_context import BufferedChatCompletionContext
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from simulator import prompts
from simulator.backends.base import ChatMessage, GenerationRequest, OptionScoringRequest, SamplingParams
from simulator.batcher import RequestBatcher
from simulator.protocol import ParsedReply, parse_reply
from simulator.records import Action

ActionChoice = Literal["scored", "parsed"]
DEFAULT_CONTEXT_WINDOW = 8192


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from anything printable (Python's hash() is salted per process)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def to_chat_messages(messages: Sequence[LLMMessage]) -> list[ChatMessage]:
    """autogen messages -> backend chat messages; consecutive messages of one role are merged,
    since many chat templates insist on alternating roles."""
    chat: list[ChatMessage] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            role, content = "system", message.content
        elif isinstance(message, UserMessage):
            role, content = "user", _text(message.content)
        elif isinstance(message, AssistantMessage):
            role, content = "assistant", _text(message.content)
        elif isinstance(message, FunctionExecutionResultMessage):
            role, content = "user", "\n".join(result.content for result in message.content)
        else:  # pragma: no cover - autogen adds no other kinds today
            raise TypeError(f"unsupported message type {type(message).__name__}")
        if chat and chat[-1]["role"] == role:
            chat[-1] = {"role": role, "content": chat[-1]["content"] + "\n" + content}
        else:
            chat.append({"role": role, "content": content})
    return chat


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(part if isinstance(part, str) else str(part) for part in content)


class BatchedChatClient(ChatCompletionClient):
    """An autogen model client for one conversation participant, served through the batcher.

    Each call gets its own seed derived from the base seed and the call number, so a conversation
    is reproducible and no two turns share a random stream. `reply_filter` post-processes the raw
    text before autogen stores it in the agent's context (the cleaned turn, not the junk around it).
    """

    def __init__(
        self,
        batcher: RequestBatcher,
        params: SamplingParams,
        session_id: str | None = None,
        reply_filter: Callable[[str], str] | None = None,
    ):
        self._batcher = batcher
        self._params = params
        self._session_id = session_id
        self._reply_filter = reply_filter
        self._calls = 0
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._last = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self.model_wait_s = 0.0  # time spent inside create(), to tell framework overhead apart

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        started = time.perf_counter()
        if tools:
            raise ValueError("persona agents do not use tools")
        params = replace(self._params, seed=derive_seed(self._params.seed, self._calls))
        self._calls += 1
        request = GenerationRequest(to_chat_messages(messages), params, self._session_id)
        generation = await self._batcher.generate(request)
        text = self._reply_filter(generation.text) if self._reply_filter else generation.text
        self._last = RequestUsage(generation.prompt_tokens, generation.completion_tokens)
        self._total = RequestUsage(
            self._total.prompt_tokens + generation.prompt_tokens,
            self._total.completion_tokens + generation.completion_tokens,
        )
        self.model_wait_s += time.perf_counter() - started
        finish = "length" if generation.finish_reason == "length" else "stop"
        return CreateResult(finish_reason=finish, content=text, usage=self._last, cached=False)

    def create_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("persona agents do not stream; turns are batched whole")

    async def close(self) -> None:
        return None

    def actual_usage(self) -> RequestUsage:
        return self._last

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        chat = to_chat_messages(messages)
        counter = getattr(self._batcher.backend, "count_tokens", None)
        if callable(counter):
            return int(counter(chat))
        return sum(len(m["content"]) for m in chat) // 4 + 4 * len(chat)  # never downloads a tokenizer

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        window = getattr(self._batcher.backend, "context_window", DEFAULT_CONTEXT_WINDOW)
        return window - self.count_tokens(messages)

    @property
    def capabilities(self) -> Any:  # deprecated by autogen, still abstract
        return self.model_info

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(
            vision=False,
            function_calling=False,
            json_output=False,
            family=ModelFamily.UNKNOWN,
            structured_output=False,
            multiple_system_messages=True,
        )


@dataclass
class TurnResult:
    action: Action
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    framework_s: float  # time autogen spent around the model call


class PersonaAgent:
    """One participant of an episode: an AssistantAgent with the persona's system prompt."""

    def __init__(
        self,
        name: str,
        agent_id: str,
        system_prompt: str,
        other_names: Sequence[str],
        batcher: RequestBatcher,
        params: SamplingParams,
        session_id: str,
        action_choice: ActionChoice = "parsed",
        context_messages: int = 64,
    ):
        self.name = name
        self.session_id = session_id
        self.other_names = list(other_names)
        self.action_choice = action_choice
        self._system_prompt = system_prompt
        self._batcher = batcher
        self._last_reply = ParsedReply("none", "")
        self.client = BatchedChatClient(batcher, params, session_id, reply_filter=self._parse)
        self.agent = AssistantAgent(
            name=_identifier(agent_id),
            model_client=self.client,
            system_message=system_prompt,
            description=f"{name}, a persona in a role-play",
            # Bounded, and larger than any episode, so every prompt extends the previous one
            # (what lets the backend reuse the conversation's KV cache).
            model_context=BufferedChatCompletionContext(buffer_size=context_messages),
        )

    def _parse(self, raw: str) -> str:
        self._last_reply = parse_reply(raw, self.name, self.other_names)
        return self._last_reply.canonical()

    async def act(self, incoming: Sequence[TextMessage], allow_leave: bool) -> TurnResult:
        """Play one turn after reading `incoming` (the others' turns since this agent last spoke)."""
        started = time.perf_counter()
        incoming = list(incoming)
        # Opening turns (before everyone has spoken) are always spoken: choosing there would cost a
        # whole extra prompt pass, since the conversation has no cached prefix to score from yet.
        if self.action_choice == "scored" and allow_leave:
            chosen = await self._choose_action(incoming)
            if chosen == "leave":
                for message in incoming:  # the agent has still heard them
                    await self.agent.model_context.add_message(message.to_model_message())
                return TurnResult("leave", "", 0, 0, time.perf_counter() - started, 0.0)
            if chosen == "non-verbal":
                incoming.append(
                    TextMessage(content=prompts.non_verbal_cue(self.name), source=prompts.OPENING_SPEAKER)
                )
        waited_before = self.client.model_wait_s
        call_started = time.perf_counter()
        await self.agent.on_messages(incoming, CancellationToken())
        call_s = time.perf_counter() - call_started
        framework_s = max(0.0, call_s - (self.client.model_wait_s - waited_before))
        reply = self._last_reply
        if reply.action == "leave" and not allow_leave:  # too early to leave: keep what was said
            reply = ParsedReply("speak", reply.text) if reply.text else ParsedReply("none", "")
        usage = self.client.actual_usage()
        return TurnResult(
            reply.action,
            reply.text,
            usage.prompt_tokens,
            usage.completion_tokens,
            time.perf_counter() - started,
            framework_s,
        )

    async def _choose_action(self, incoming: Sequence[TextMessage]) -> Action:
        """Constrained choice: the option the model finds most likely, read from its log-probabilities."""
        history = await self.agent.model_context.get_messages()
        messages = [
            SystemMessage(content=self._system_prompt),
            *history,
            *(m.to_model_message() for m in incoming),
        ]
        question, options = prompts.action_question(self.name)
        chat = to_chat_messages([*messages, UserMessage(content=question, source=prompts.OPENING_SPEAKER)])
        scores = await self._batcher.score_options(
            OptionScoringRequest(messages=chat, options=options, session_id=self.session_id)
        )
        best = max(range(len(options)), key=lambda i: scores.logprobs[i])
        return prompts.ACTION_OPTIONS[options[best]]


def _identifier(text: str) -> str:
    """autogen agent names must be Python identifiers."""
    name = re.sub(r"\W", "_", text)
    return name if name.isidentifier() else f"p_{name}"
