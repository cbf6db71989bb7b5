"""A small but real machine-learning pipeline on scikit-learn's bundled wine data set.

    LoadWineData -> MakeFeatures -> SplitTrainTest -> TrainModel(C=0.01) -> EvaluateModel -+
                                                  \\-> TrainModel(C=1.0)  -> EvaluateModel -+-> WineReport

Every box is a gokart task: its output file name carries a hash of its significant parameters
and of everything upstream, so a second run finds every output and runs nothing, while
changing one parameter (say the regularisation strength `C`) reruns only what depends on it.

Each frame task declares the columns it dumps (`output_schema`) and reads (`input_schema`) as a
`gokart.Schema`: a build compares them for the whole DAG before anything runs, and refuses a frame
that does not match at dump (docs/contracts.md).

Run it with `python examples/wine_pipeline.py [--workspace DIR]`. The data set ships inside
scikit-learn, so no network is needed. Only gokart's public API is used: the same file runs on
this gokart and on gokart 1.12.2 (which has no `gokart.Schema`: the declarations are then None).
"""

from __future__ import annotations

import argparse
import os

import luigi
import pandas as pd
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import gokart

DEFAULT_WORKSPACE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'resources', 'wine')
# The two model settings the pipeline compares: strong and weak L2 regularisation.
MODEL_SETTINGS = (0.01, 1.0)


def schema(**columns: str) -> object:
    """``gokart.Schema(**columns)``; None on gokart 1.12.2, which has no frame contracts."""
    return gokart.Schema(**columns) if hasattr(gokart, 'Schema') else None


MEASUREMENTS = ('alcohol', 'malic_acid', 'ash', 'alcalinity_of_ash', 'magnesium', 'total_phenols', 'flavanoids')
MEASUREMENTS += ('nonflavanoid_phenols', 'proanthocyanins', 'color_intensity', 'hue', 'od280/od315_of_diluted_wines', 'proline')
DERIVED = ('phenols_ratio', 'color_per_hue', 'alcohol_x_proline')
RAW_COLUMNS = {**dict.fromkeys(MEASUREMENTS, 'float64'), 'target': 'int64'}
FEATURE_COLUMNS = {**RAW_COLUMNS, **dict.fromkeys(DERIVED, 'float64')}


class LoadWineData(gokart.TaskOnKart[pd.DataFrame]):
    """Loads the 178-sample wine table (13 chemical measurements and a `target` class)."""

    output_schema = schema(**RAW_COLUMNS)

    def output(self):
        return self.make_target('wine/raw.parquet')

    def run(self) -> None:
        self.dump(load_wine(as_frame=True).frame)


class MakeFeatures(gokart.TaskOnKart[pd.DataFrame]):
    """Adds derived ratio features; the model sees these next to the raw measurements."""

    data = gokart.TaskInstanceParameter(expected_type=LoadWineData)
    input_schema = {
        'data': schema(
            flavanoids='float64', total_phenols='float64', color_intensity='float64', hue='float64', alcohol='float64', proline='float64'
        )
    }
    output_schema = schema(**FEATURE_COLUMNS)

    def output(self):
        return self.make_target('wine/features.parquet')

    def run(self) -> None:
        df = self.load('data')
        features = df.copy()
        features['phenols_ratio'] = df['flavanoids'] / df['total_phenols']
        features['color_per_hue'] = df['color_intensity'] / df['hue']
        features['alcohol_x_proline'] = df['alcohol'] * df['proline'] / 1000.0
        self.dump(features)


class SplitTrainTest(gokart.TaskOnKart[dict]):
    """Splits features into stratified train and test sets, keeping the class balance."""

    features = gokart.TaskInstanceParameter(expected_type=MakeFeatures)
    test_size = luigi.FloatParameter(default=0.3)
    seed = luigi.IntParameter(default=0)
    input_schema = {'features': schema(**FEATURE_COLUMNS)}  # passed on whole: train and test keep every column
    output_schema = schema(**FEATURE_COLUMNS)  # one Schema: both outputs, train and test

    def output(self):
        return {'train': self.make_target('wine/train.pkl'), 'test': self.make_target('wine/test.pkl')}

    def run(self) -> None:
        df = self.load('features')
        train, test = train_test_split(df, test_size=self.test_size, random_state=self.seed, stratify=df['target'])
        self.dump(train, 'train')
        self.dump(test, 'test')


class TrainModel(gokart.TaskOnKart[Pipeline]):
    """Fits a scaled logistic regression; `C` is significant, so each value is its own task."""

    split = gokart.TaskInstanceParameter(expected_type=SplitTrainTest)
    C = luigi.FloatParameter()
    input_schema = {'split': {'train': schema(target='int64')}}  # the label; every other column is a feature

    def run(self) -> None:
        train = self.load(self.split.output()['train'])
        model = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=1000))
        model.fit(train.drop(columns=['target']), train['target'])
        self.dump(model)


class EvaluateModel(gokart.TaskOnKart[dict]):
    """Scores one trained model on the held-out test set."""

    model = gokart.TaskInstanceParameter(expected_type=TrainModel)
    split = gokart.TaskInstanceParameter(expected_type=SplitTrainTest)
    input_schema = {'split': {'test': schema(target='int64')}}

    def run(self) -> None:
        model = self.load('model')
        test = self.load(self.split.output()['test'])
        predicted = model.predict(test.drop(columns=['target']))
        self.dump({'C': self.model.C, 'accuracy': float(accuracy_score(test['target'], predicted)), 'test_rows': len(test)})


class WineReport(gokart.TaskOnKart[dict]):
    """Collects every evaluation into one dict keyed by model setting."""

    evaluations = gokart.ListTaskInstanceParameter(expected_elements_type=EvaluateModel)

    def run(self) -> None:
        results = self.load('evaluations')
        self.dump({f'logistic_regression_C={r["C"]}': r for r in results})


def make_report_task(workspace_directory: str = DEFAULT_WORKSPACE) -> WineReport:
    """Wires the whole DAG; every task gets the same workspace (a non-significant parameter)."""
    ws = {'workspace_directory': workspace_directory.rstrip('/') + '/'}
    split = SplitTrainTest(features=MakeFeatures(data=LoadWineData(**ws), **ws), **ws)
    evaluations = [EvaluateModel(model=TrainModel(split=split, C=c, **ws), split=split, **ws) for c in MODEL_SETTINGS]
    return WineReport(evaluations=evaluations, **ws)


class WinePipeline(gokart.TaskOnKart[dict]):
    """The whole DAG under one name, so that the `gokart` command can name it:
    `gokart plan wine_pipeline:WinePipeline --workspace-directory DIR`."""

    def requires(self) -> WineReport:
        return make_report_task(self.workspace_directory)

    def run(self) -> None:
        self.dump(self.load())


def format_report(report: dict) -> str:
    """One line per model setting, for printing."""
    return '\n'.join(f'{name}: accuracy={r["accuracy"]:.3f} on {r["test_rows"]} test rows' for name, r in sorted(report.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument('--workspace', default=os.environ.get('WINE_WORKSPACE', DEFAULT_WORKSPACE), help='output directory')
    args = parser.parse_args()
    report = gokart.build(make_report_task(args.workspace))
    print(format_report(report))


if __name__ == '__main__':
    main()
