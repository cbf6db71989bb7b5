"""Run the calls of a generated module and print, as JSON, what gokart made of each (issue 22, item 9).

Usage: ``python differential_driver.py CASES.json``, where the file holds ``{"directory", "cases":
[{"module", "calls"}, ...]}`` (each module a file in the directory). The same script runs under our interpreter and under gokart 1.12.2's, so it uses only
what both have: luigi's and gokart 1.12's public API. Per call it reports the construction's
exception, or the task's luigi ``task_id``, its unique id, the paths of its outputs, its
``to_str_params()`` (all, and only the significant ones) and the unique ids of the gokart tasks it
requires; each of those either a value or the exception it raised.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

# Parameters of ours that gokart 1.12 does not have; they are left out of to_str_params() (docs/ids.md).
OUR_OWN_PARAMETERS = ('code_fingerprint_check',)


def exception_names(error: BaseException) -> list[str]:
    """The names of the exception's class and its bases, so that a subclass of 1.12's exception matches it."""
    return [cls.__name__ for cls in type(error).__mro__ if cls not in (BaseException, object)]


def attempt(compute: Any) -> dict[str, Any]:
    try:
        return {'value': compute()}
    except Exception as error:  # the difference in the exception is what is compared
        return {'error': exception_names(error)}


def paths(output: Any) -> Any:
    if isinstance(output, dict):
        return {key: paths(value) for key, value in output.items()}
    if isinstance(output, (list, tuple)):
        return [paths(value) for value in output]
    return output.path()


def describe(task: Any) -> dict[str, Any]:
    import luigi

    import gokart

    def str_params(only_significant: bool) -> dict[str, str]:
        params = dict(task.to_str_params(only_significant=only_significant))
        for name in OUR_OWN_PARAMETERS:
            params.pop(name, None)
        return params

    def required_ids() -> list[Any]:
        found = []
        for requirement in luigi.task.flatten(task.requires()):
            if isinstance(requirement, gokart.TaskOnKart):
                found.append(requirement.make_unique_id())
            else:
                found.append(getattr(requirement, 'task_id', repr(requirement)))
        return found

    return {
        'family': attempt(task.get_task_family),
        'task_id': attempt(lambda: task.task_id),
        'unique_id': attempt(task.make_unique_id),
        'outputs': attempt(lambda: paths(task.output())),
        'str_params': attempt(lambda: str_params(False)),
        'significant_str_params': attempt(lambda: str_params(True)),
        'required_ids': attempt(required_ids),
    }


def run(case: dict[str, Any]) -> list[dict[str, Any]]:
    import luigi

    try:
        module = __import__(case['module'])
    except Exception as error:  # a default constructing a task may fail, at class definition
        return [{'call': '<import>', 'construction': {'error': exception_names(error)}}]
    namespace = vars(module)
    results: list[dict[str, Any]] = []
    for call in case['calls']:
        try:
            made = eval(call, namespace)
        except Exception as error:
            results.append({'call': call, 'construction': {'error': exception_names(error)}})
            continue
        if isinstance(made, luigi.Task):
            results.append({'call': call, 'construction': {'value': 'task'}, **describe(made)})
        else:
            results.append({'call': call, 'construction': {'value': repr(made)}})
    return results


def main() -> None:
    warnings.simplefilter('ignore')
    import logging

    logging.disable(logging.CRITICAL)  # luigi and gokart log warnings for odd values; the results are what counts
    with open(sys.argv[1], encoding='utf-8') as f:
        case = json.load(f)
    sys.path.insert(0, case['directory'])
    reports = []
    for one in case['cases']:
        os.chdir(case['directory'])  # a case may change directory; the next starts where all do
        reports.append(run(one))
    sys.stdout.write(json.dumps(reports, ensure_ascii=True))


if __name__ == '__main__':
    main()
