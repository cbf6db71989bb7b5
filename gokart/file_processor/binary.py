"""Raw bytes (``.png``, ``.jpg``) and numpy arrays (``.npz``)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .base import BinaryFormatProcessor, read_all


class BinaryFileProcessor(BinaryFormatProcessor):
    """Bytes written and read unchanged, e.g. an encoded image."""

    def load(self, file: IO[bytes]) -> bytes:
        return read_all(file)

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        file.write(obj)


class NpzFileProcessor(BinaryFormatProcessor):
    """One ``numpy.ndarray``, stored compressed under the key ``data`` as gokart did."""

    def load(self, file: IO[bytes]) -> np.ndarray:
        import numpy as np

        with np.load(file) as archive:
            return archive['data']  # type: ignore[no-any-return]

    def dump(self, obj: Any, file: IO[bytes]) -> None:
        import numpy as np

        if not isinstance(obj, np.ndarray):
            raise AssertionError(f'requires np.ndarray, but {type(obj)} is passed.')
        np.savez_compressed(file, data=obj)
