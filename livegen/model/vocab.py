"""The model's alphabet: the characters of its training corpus, in a fixed order.

It is fixed when the model is trained and travels inside the ONNX file, so a
model and its vocabulary can never be paired wrongly.
"""

from __future__ import annotations

import numpy as np

from livegen.errors import LivegenError


class Vocabulary:
    """Maps characters to token ids and back."""

    def __init__(self, characters: str):
        if len(set(characters)) != len(characters):
            raise ValueError("a vocabulary lists each character once")
        self.characters = characters
        self._ids = {character: index for index, character in enumerate(characters)}

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.characters)

    def __contains__(self, character: str) -> bool:
        return character in self._ids

    def id_of(self, character: str) -> int:
        return self._ids[character]

    def encode(self, text: str) -> np.ndarray:
        """Token ids for text; a character the model never saw is a clear error."""
        try:
            return np.fromiter((self._ids[character] for character in text), dtype=np.int32, count=len(text))
        except KeyError as unknown:
            character = unknown.args[0]
            raise LivegenError(
                f"the model cannot read {character!r} (at position {text.index(character)} of the prime): "
                "it is not in the model's vocabulary"
            ) from None

    def decode(self, ids) -> str:
        return "".join(self.characters[index] for index in ids)
