"""Per-conversation KV caches for the transformers backend.

A persona's next prompt is its previous prompt plus its own reply and the other side's turn, so
the keys and values of the shared prefix can be kept and only the new tokens processed. On CPU,
where prompt processing dominates, this is the biggest single win. Entries are evicted least
recently used once the total number of cached tokens passes a budget, so memory stays flat.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch


@dataclass
class SessionCache:
    token_ids: list[int]
    keys: list[torch.Tensor]  # one [heads, tokens, head_dim] tensor per layer
    values: list[torch.Tensor]

    def reusable_prefix(self, prompt_ids: list[int]) -> int:
        """How many leading prompt tokens this cache already covers (always leaving one to feed)."""
        limit = min(len(self.token_ids), len(prompt_ids) - 1)
        n = 0
        while n < limit and self.token_ids[n] == prompt_ids[n]:
            n += 1
        return n


# Borrowing a shorter prefix saves less than the copying costs.
MIN_BORROWED_TOKENS = 32


class SessionCacheStore:
    def __init__(self, max_tokens: int = 65_536):
        self.max_tokens = max_tokens
        self._entries: OrderedDict[str, SessionCache] = OrderedDict()
        self._tokens = 0
        self.hits_tokens = 0  # prompt tokens not recomputed, for statistics

    def get(self, session_id: str | None) -> SessionCache | None:
        if session_id is None or session_id not in self._entries:
            return None
        self._entries.move_to_end(session_id)
        return self._entries[session_id]

    def longest_prefix(
        self, session_id: str | None, prompt_ids: list[int]
    ) -> tuple[SessionCache | None, int]:
        """The entry covering the most leading tokens of a prompt, and how many it covers.

        A conversation's own entry usually covers all but its newest turn. A conversation without
        one (its first turn) may borrow another's: the prompts of one episode begin with the same
        scene, so the second speaker's first prompt starts where the first speaker's did.
        """
        own = self.get(session_id)
        if own is not None:
            return own, own.reusable_prefix(prompt_ids)
        best, best_length = None, 0
        for entry in reversed(self._entries.values()):  # the most recent first
            if entry.token_ids[:1] == prompt_ids[:1]:
                length = entry.reusable_prefix(prompt_ids)
                if length > best_length:
                    best, best_length = entry, length
        return (best, best_length) if best_length >= MIN_BORROWED_TOKENS else (None, 0)

    def put(self, session_id: str | None, entry: SessionCache) -> None:
        if session_id is None or self.max_tokens <= 0:
            return
        self.drop(session_id)
        self._entries[session_id] = entry
        self._tokens += len(entry.token_ids)
        while self._tokens > self.max_tokens and len(self._entries) > 1:
            _, evicted = self._entries.popitem(last=False)
            self._tokens -= len(evicted.token_ids)

    def drop(self, session_id: str) -> None:
        old = self._entries.pop(session_id, None)
        if old is not None:
            self._tokens -= len(old.token_ids)

    def __len__(self) -> int:
        return len(self._entries)
