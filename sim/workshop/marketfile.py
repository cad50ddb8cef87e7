"""The game's market after the last round played, `DIR/market.state`: so a command that
needs the market (running round N, say) continues it instead of replaying rounds 1 to N-1.

The file is the engine object pickled, signed with HMAC-SHA256 under the facilitator's
secret (kept in `game.json`, readable by its owner only) over the round it stands after,
the checksums of the rounds played and the pickled bytes. It is read only when the signature
matches and it stands after the last round of the save; anything else (a missing, older,
edited or foreign file, a renewed secret) is ignored and the game replays from its seed, as
before, then writes a fresh one. Unpickling runs code named in the file, which is why an
unsigned file is never unpickled.

Two details keep a continued market byte-identical to a replayed one:
- numpy views: the engines keep arrays that are views of one block (the ledger's columns of
  its day × column × brand array, a consumer's rows of the model's tables); plain pickling
  copies each view on its own, so writes through one no longer reach the others. The
  pickler here writes a view as (its base array, offset, shape, strides, and its dtype where
  it differs: the fast engine's record fields), so the base is written once and the views
  share it again after loading.
- compiled-struct handles (the fast engine's kernels take its arrays as numba StructRefs):
  they cannot be pickled and are a cache the engine rebuilds when it holds none, so a tuple
  of them is written as None. Arrays allocated by compiled code are written as plain arrays.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from sim.workshop.savefile import write_bytes_atomic

MARKET_FILE = "market.state"
MAGIC = b"siyu-market-1\n"
SIG_BYTES = 32


def _view(
    root: np.ndarray, offset: int, shape: tuple, strides: tuple, dtype: np.dtype | None = None
) -> np.ndarray:
    """A view of `root` (restored from a pickle): the same memory, as before pickling; a
    field of a block of records is a view of another dtype (`sim.fast.layout`)."""
    dtype = root.dtype if dtype is None else dtype
    return np.ndarray(shape, dtype=dtype, buffer=root, offset=offset, strides=strides)


def _owned(data: bytes, dtype: np.dtype, shape: tuple) -> np.ndarray:
    """A writable array owning a copy of `data` (an array numba allocated, when pickled)."""
    return np.frombuffer(bytearray(data), dtype=dtype).reshape(shape)


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _is_struct_handle(obj: Any) -> bool:
    return type(obj).__name__.endswith("Ref") and any(
        c.__name__ == "StructRefProxy" for c in type(obj).__mro__
    )


def _handles(value: Any) -> bool:
    return type(value) is tuple and bool(value) and all(_is_struct_handle(x) for x in value)


def _without_handles(obj: Any) -> Any:
    """An object's reduction with its tuples of struct handles written as None."""
    attrs = getattr(obj, "__dict__", None)
    if type(attrs) is not dict or not any(_handles(v) for v in attrs.values()):
        return NotImplemented
    reduced = obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    state = {k: (None if _handles(v) else v) for k, v in reduced[2].items()}
    return (*reduced[:2], state, *reduced[3:])


class _MarketPickler(pickle.Pickler):
    """Pickles numpy views as views of their (pickled once) base; see the module docstring."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray:
            return _without_handles(obj)
        root = _root(obj)
        if root is obj:
            if obj.base is None:
                return NotImplemented
            return (_owned, (np.ascontiguousarray(obj).tobytes(), obj.dtype, obj.shape))
        if not root.flags.c_contiguous or obj.dtype.hasobject or obj.size == 0:
            return NotImplemented
        offset = obj.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if obj.dtype == root.dtype:
            return (_view, (root, offset, obj.shape, obj.strides))
        return (_view, (root, offset, obj.shape, obj.strides, obj.dtype))


def dumps(model: Any) -> bytes:
    """The market as bytes (views kept as views)."""
    out = io.BytesIO()
    _MarketPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(model)
    return out.getvalue()


def _signature(key: str, after: int, rounds_digest: str, payload: bytes) -> bytes:
    head = f"{after}\n{rounds_digest}\n".encode()
    return hmac.new(key.encode("utf-8"), head + payload, hashlib.sha256).digest()


def write_market(folder: Path, model: Any, key: str, after: int, rounds_digest: str) -> None:
    """Write the market standing after round `after` (atomically; owner-only)."""
    payload = dumps(model)
    sig = _signature(key, after, rounds_digest, payload)
    head = MAGIC + f"{after}\n".encode()
    write_bytes_atomic(Path(folder) / MARKET_FILE, head + sig + payload)


def read_market(folder: Path, key: str, after: int, rounds_digest: str) -> Any | None:
    """The market saved after round `after` of this game, or None when there is none that
    this game signed for exactly these rounds (the caller then replays)."""
    try:
        raw = (Path(folder) / MARKET_FILE).read_bytes()
    except OSError:
        return None
    if not raw.startswith(MAGIC):
        return None
    rest = raw[len(MAGIC) :]
    line, sep, rest = rest.partition(b"\n")
    if not sep or line != str(after).encode() or len(rest) < SIG_BYTES:
        return None
    sig, payload = rest[:SIG_BYTES], rest[SIG_BYTES:]
    if not hmac.compare_digest(sig, _signature(key, after, rounds_digest, payload)):
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # signed by this game, but written by another version of the code
        return None
