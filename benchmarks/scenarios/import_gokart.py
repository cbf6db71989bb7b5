"""Time of `import gokart` in a fresh interpreter (the harness repeats it and keeps the median)."""

import time

from _common import emit, main


def scenario() -> None:
    start = time.perf_counter()
    import gokart  # noqa: F401

    emit({'seconds': time.perf_counter() - start})


if __name__ == '__main__':
    main(scenario)
