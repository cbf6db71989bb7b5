"""Tasks for the listing and remote gc tests: many leaves in one directory under one root, on any workspace."""

from __future__ import annotations

from typing import Any

import luigi

import gokart


class ListedLeaf(gokart.TaskOnKart[int]):
    number = luigi.IntParameter()

    def run(self) -> None:
        self.dump(self.number)


class ListedRoot(gokart.TaskOnKart[int]):
    """Requires ``width`` leaves, every one in the root's workspace; their outputs share one directory."""

    width = luigi.IntParameter(default=3)

    def requires(self) -> Any:
        return [ListedLeaf(number=i, workspace_directory=self.workspace_directory) for i in range(self.width)]

    def run(self) -> None:
        self.dump(sum(self.load()))


class NamedOutput(gokart.TaskOnKart[int]):
    """An output at a path chosen by the test (``name`` inside the workspace, no unique id)."""

    name = luigi.Parameter()

    def output(self) -> Any:
        return self.make_target(self.name, use_unique_id=False)

    def run(self) -> None:
        self.dump(1)


class AllNamed(gokart.TaskOnKart[int]):
    names = luigi.ListParameter()

    def requires(self) -> Any:
        return [NamedOutput(name=name, workspace_directory=self.workspace_directory) for name in self.names]

    def run(self) -> None:
        self.dump(0)
