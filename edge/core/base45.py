"""Base45 (RFC 9285): bytes as text from the 45 characters a QR code stores compactly in alphanumeric mode."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def encode(data: bytes) -> str:
    """Every 2 bytes become 3 characters, a last odd byte 2 characters; least significant digit first."""
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def decode(text: str) -> bytes:
    """The inverse of :func:`encode`; raises ValueError for anything :func:`encode` cannot produce.

    That includes a character outside the alphabet, a length of 3k+1, and a group whose value does not
    fit its bytes (3 characters above 65535, 2 characters above 255): refusing those keeps decoding
    one-to-one, so two different strings never decode to the same bytes.
    """
    if len(text) % 3 == 1:
        raise ValueError(f"base45: length {len(text)} leaves a single character")
    try:
        values = [_VALUE[c] for c in text]
    except KeyError as exc:
        raise ValueError(f"base45: {exc.args[0]!r} is not in the alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 0xFFFF:
                raise ValueError(f"base45: group at {i} is {n}, above 65535")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise ValueError(f"base45: final pair is {n}, above 255")
            out.append(n)
    return bytes(out)
