"""A task module as gokart users write it: overridden requires/output/run/input, loads, dumps, targets.

`make lint` and tests/test_typing.py check it with pyright (this directory's pyrightconfig.json), as a
user's CI would; it must stay free of errors, so gokart's signatures are ones users can override.
"""

from __future__ import annotations

import datetime
from typing import Any

import luigi
import pandas as pd

import gokart
from gokart.target import TargetOnKart


class LoadSales(gokart.TaskOnKart[pd.DataFrame]):
    # Annotated with the parameter class: type checkers then see the keyword arguments of the constructor.
    day: luigi.DateParameter = luigi.DateParameter()

    def output(self) -> TargetOnKart:
        return self.make_target('sales/raw.csv')

    def run(self) -> None:
        self.dump(pd.DataFrame({'shop': ['a', 'b'], 'amount': [1, 2]}))


class CleanSales(gokart.TaskOnKart[pd.DataFrame]):
    raw: gokart.TaskInstanceParameter[LoadSales] = gokart.TaskInstanceParameter(expected_type=LoadSales)

    def requires(self) -> gokart.TaskOnKart[pd.DataFrame]:
        return self.raw

    def run(self) -> None:
        frame = self.load_data_frame(required_columns={'shop', 'amount'})
        self.dump(frame[frame['amount'] > 0])


class Totals(gokart.TaskOnKart):  # two outputs: the task's type argument would be one dumped type
    sales: gokart.TaskInstanceParameter[CleanSales] = gokart.TaskInstanceParameter(expected_type=CleanSales)
    extra: gokart.ListTaskInstanceParameter[gokart.TaskOnKart[Any]] = gokart.ListTaskInstanceParameter(default=[])

    def requires(self) -> dict[str, Any]:
        return {'sales': self.sales, 'extra': list(self.extra)}

    def output(self) -> dict[str, TargetOnKart]:
        return {'totals': self.make_target('sales/totals.pkl'), 'note': self.make_target('sales/note.txt')}

    def run(self) -> None:
        frame: pd.DataFrame = self.load('sales')
        inputs = self.input()
        assert isinstance(inputs, dict)
        totals = {str(shop): int(amount) for shop, amount in zip(frame['shop'], frame['amount'], strict=True)}
        self.dump(totals, 'totals')
        self.dump(f'{len(totals)} shops', 'note')


class Report(gokart.TaskOnKart[str]):
    totals: gokart.TaskInstanceParameter[Totals] = gokart.TaskInstanceParameter(expected_type=Totals)

    def requires(self) -> gokart.TaskOnKart[Any]:
        return self.totals

    def output(self) -> TargetOnKart:
        return self.make_model_target('report/model.zip', save_function=_save, load_function=_load)

    def input(self) -> Any:
        return super().input()

    def run(self) -> None:
        loaded = self.load()
        self.dump(f'{loaded["totals"]}')


def _save(obj: str, path: str) -> None:
    with open(path, 'w') as f:
        f.write(obj)


def _load(path: str) -> str:
    with open(path) as f:
        return f.read()


def build_report() -> str:
    raw = LoadSales(day=datetime.date(2024, 1, 1))
    return gokart.build(Report(totals=Totals(sales=CleanSales(raw=raw))), reset_register=False)
