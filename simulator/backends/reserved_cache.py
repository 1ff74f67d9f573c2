"""A KV cache with room reserved for the tokens still to come.

transformers' DynamicCache appends each decoding step with `torch.cat`, which copies the whole
cache of every layer at every step: with 32 conversations of ~600 tokens that copy was 77% of a
decoding step on CPU. Here each layer's keys and values live in one buffer sized for the prompt
plus the reply limit; a step writes its token in place and the model sees a view of the filled
part. The buffer only grows (doubling) if a caller feeds more than it reserved.
"""

from __future__ import annotations

import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer


class ReservedLayer(DynamicLayer):
    def __init__(self, capacity: int):
        super().__init__()
        self.capacity = capacity
        self.length = 0
        self._key_buffer: torch.Tensor | None = None
        self._value_buffer: torch.Tensor | None = None

    def allocate(
        self, rows: int, heads: int, dim: int, dtype: torch.dtype, device: torch.device | str
    ) -> None:
        """Empty buffers for `rows` sequences."""
        self.dtype, self.device = dtype, device
        shape = (rows, heads, self.capacity, dim)
        self._key_buffer = torch.empty(shape, dtype=dtype, device=device)
        self._value_buffer = torch.empty(shape, dtype=dtype, device=device)
        self.is_initialized = True

    def window(self, rows: slice, start: int) -> ReservedLayer:
        """An empty layer over some of this layer's rows whose position 0 is this layer's `start`:
        what the model writes there lands in this layer's memory, with no copy to join them."""
        assert self._key_buffer is not None and self._value_buffer is not None
        self._key_buffer[rows, :, :start] = 0  # holes before the window (see `place`)
        self._value_buffer[rows, :, :start] = 0
        view = ReservedLayer(self.capacity - start)
        view.dtype, view.device, view.is_initialized = self.dtype, self.device, True
        view._key_buffer = self._key_buffer[rows, :, start:]
        view._value_buffer = self._value_buffer[rows, :, start:]
        return view

    def place(self, rows: int | torch.Tensor, keys: torch.Tensor, values: torch.Tensor, end: int) -> None:
        """Put cached keys/values of `rows` so that they end at position `end`; zero what lies before.

        The zeros are holes the attention mask hides, but empty memory may hold NaN bit patterns
        and 0 * NaN = NaN.
        """
        assert self._key_buffer is not None and self._value_buffer is not None
        start = end - keys.shape[-2]
        self._key_buffer[rows, :, :start] = 0
        self._value_buffer[rows, :, :start] = 0
        self._key_buffer[rows, :, start:end] = keys
        self._value_buffer[rows, :, start:end] = values

    def set_length(self, length: int) -> None:
        """Declare the first `length` positions filled."""
        self.length = length
        self._refresh_views()

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if self._key_buffer is None:
            rows, heads, _, dim = key_states.shape
            self.allocate(rows, heads, dim, key_states.dtype, key_states.device)
        assert self._key_buffer is not None and self._value_buffer is not None
        end = self.length + key_states.shape[-2]
        if end > self._key_buffer.shape[-2]:
            self._grow(max(end, 2 * self._key_buffer.shape[-2]))
        self._key_buffer[..., self.length : end, :] = key_states
        self._value_buffer[..., self.length : end, :] = value_states
        self.length = end
        self._refresh_views()
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove > 0:
            raise ValueError("crop takes a negative number of tokens to remove")
        self.length = max(0, self.length + tokens_to_remove)
        self._refresh_views()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self._key_buffer is not None:
            self._key_buffer = self._key_buffer[indices]
            self._value_buffer = self._value_buffer[indices]
            self._refresh_views()

    def _grow(self, capacity: int) -> None:
        assert self._key_buffer is not None and self._value_buffer is not None
        rows, heads, _, dim = self._key_buffer.shape
        for name in ("_key_buffer", "_value_buffer"):
            old = getattr(self, name)
            new = torch.empty((rows, heads, capacity, dim), dtype=old.dtype, device=old.device)
            new[..., : self.length, :] = old[..., : self.length, :]
            setattr(self, name, new)

    def _refresh_views(self) -> None:
        assert self._key_buffer is not None and self._value_buffer is not None
        self.keys = self._key_buffer[..., : self.length, :]
        self.values = self._value_buffer[..., : self.length, :]


class ReservedCache(DynamicCache):
    """A DynamicCache made of ReservedLayers (the model code treats it as a DynamicCache)."""

    layers: list[ReservedLayer]

    def __init__(self, layers: list[ReservedLayer]):
        Cache.__init__(self, layers=layers)  # skip DynamicCache's own layer set-up

    @classmethod
    def empty(cls, num_layers: int, capacity: int) -> ReservedCache:
        return cls([ReservedLayer(capacity) for _ in range(num_layers)])

    def window(self, rows: slice, start: int) -> ReservedCache:
        return ReservedCache([layer.window(rows, start) for layer in self.layers])
