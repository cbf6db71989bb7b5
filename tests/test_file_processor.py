"""gokart.file_processor: choosing a processor by extension, and what each processor reads and writes."""

from __future__ import annotations

import gzip
import io
import lzma
import pickle
import sys
import xml.etree.ElementTree as ET
from typing import Any

import dill
import fsspec
import luigi.format
import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from gokart import file_processor
from gokart.file_processor import (
    BinaryFileProcessor,
    CsvFileProcessor,
    FeatherFileProcessor,
    FileLoadError,
    FileProcessor,
    GzipFileProcessor,
    JsonFileProcessor,
    LzmaPickleFileProcessor,
    NpzFileProcessor,
    ParquetFileProcessor,
    PickleFileProcessor,
    TextFileProcessor,
    UnsupportedFormatError,
    XmlFileProcessor,
    known_extensions,
    make_file_processor,
    pickling,
    register_file_processor,
    unregister_file_processor,
)

GOKART_EXTENSIONS = [
    '.txt',
    '.ini',
    '.csv',
    '.tsv',
    '.pkl',
    '.gz',
    '.json',
    '.ndjson',
    '.xml',
    '.npz',
    '.parquet',
    '.feather',
    '.png',
    '.jpg',
]


def dump_and_load(processor: FileProcessor, obj: Any) -> Any:
    buffer = io.BytesIO()
    processor.dump(obj, buffer)
    buffer.seek(0)
    return processor.load(buffer)


# --- choosing a processor -------------------------------------------------------------------


@pytest.mark.parametrize(
    ('path', 'expected'),
    [
        ('a/b.pkl', PickleFileProcessor),
        ('x.txt', TextFileProcessor),
        ('x.ini', TextFileProcessor),
        ('x.gz', GzipFileProcessor),
        ('x.csv', CsvFileProcessor),
        ('x.tsv', CsvFileProcessor),
        ('x.json', JsonFileProcessor),
        ('x.ndjson', JsonFileProcessor),
        ('x.jsonl', JsonFileProcessor),
        ('x.xml', XmlFileProcessor),
        ('x.npz', NpzFileProcessor),
        ('x.png', BinaryFileProcessor),
        ('x.jpg', BinaryFileProcessor),
        ('s3://bucket/x.parquet', ParquetFileProcessor),
        ('x.feather', FeatherFileProcessor),
        ('x.xz', LzmaPickleFileProcessor),
        ('x.lzma', LzmaPickleFileProcessor),
    ],
)
def test_extension_picks_processor_and_every_builtin_is_binary(path: str, expected: type) -> None:
    processor = make_file_processor(path)
    assert type(processor) is expected
    assert processor.format() is luigi.format.Nop


def test_known_extensions_start_with_gokarts_list() -> None:
    assert known_extensions()[: len(GOKART_EXTENSIONS)] == GOKART_EXTENSIONS
    assert {'.jsonl', '.xz', '.lzma'} <= set(known_extensions())


@pytest.mark.parametrize('path', ['config.yaml', 'model.zip', 'no_extension', 'UPPER.CSV'])
def test_unknown_extension_is_an_assertion_error_listing_known_ones(path: str) -> None:
    with pytest.raises(AssertionError) as raised:
        make_file_processor(path)
    assert isinstance(raised.value, UnsupportedFormatError)
    assert 'is not supported. The supported extensions are' in str(raised.value)
    assert "'.parquet'" in str(raised.value)


def test_user_registers_an_extension_and_can_remove_it() -> None:
    class UpperTextProcessor(TextFileProcessor):
        def dump(self, obj: Any, file: Any) -> None:
            super().dump(str(obj).upper(), file)

    seen: list[tuple[str, bool, str]] = []

    def factory(path: str, store_index_in_feather: bool, dataframe_type: Any) -> FileProcessor:
        seen.append((path, store_index_in_feather, dataframe_type))
        return UpperTextProcessor()

    assert register_file_processor('.shout', factory) is None
    try:
        processor = make_file_processor('out/x.shout', False, dataframe_type='polars')
        assert dump_and_load(processor, 'hello') == ['HELLO']
        assert seen == [('out/x.shout', False, 'polars')]
        assert '.shout' in known_extensions()
    finally:
        assert unregister_file_processor('.shout') is factory
    with pytest.raises(UnsupportedFormatError):
        make_file_processor('x.shout')


def test_user_overrides_a_builtin_extension() -> None:
    previous = register_file_processor('.parquet', lambda *_: ParquetFileProcessor(compression='gzip'))
    assert previous is not None
    try:
        buffer = io.BytesIO()
        make_file_processor('x.parquet').dump(pd.DataFrame({'a': [1]}), buffer)
        assert pq.ParquetFile(io.BytesIO(buffer.getvalue())).metadata.row_group(0).column(0).compression == 'GZIP'
    finally:
        register_file_processor('.parquet', previous)


@pytest.mark.parametrize('extension', ['yaml', '.', ''])
def test_register_rejects_extension_without_dot(extension: str) -> None:
    with pytest.raises(ValueError, match='starts with'):
        register_file_processor(extension, lambda *_: PickleFileProcessor())


def test_misspelt_dataframe_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="'polar'"):
        make_file_processor('x.csv', dataframe_type='polar')  # type: ignore[arg-type]


@pytest.mark.parametrize('processor_class', [CsvFileProcessor, JsonFileProcessor, ParquetFileProcessor])
def test_polars_processor_without_polars_says_how_to_install(monkeypatch: pytest.MonkeyPatch, processor_class: Any) -> None:
    monkeypatch.setitem(sys.modules, 'polars', None)
    with pytest.raises(ImportError) as raised:
        processor_class(dataframe_type='polars')
    assert str(raised.value) == (
        "polars is required for polars-based dataframe types ('polars' or 'polars-lazy'). Install with: pip install polars"
    )
    assert type(CsvFileProcessor()) is CsvFileProcessor  # pandas processors do not need polars


def test_processors_are_picklable_for_worker_processes() -> None:
    for path in ['x.csv', 'x.parquet', 'x.feather', 'x.json']:
        for dataframe_type in ['pandas', 'polars', 'polars-lazy']:
            processor = make_file_processor(path, dataframe_type=dataframe_type)  # type: ignore[arg-type]
            assert type(pickle.loads(pickle.dumps(processor))) is type(processor)


# --- pickle -----------------------------------------------------------------------------------


def test_pickle_uses_standard_pickle_protocol_5_that_dill_reads() -> None:
    frame = pd.DataFrame({'a': [1, 2], 'b': ['x', None]})
    buffer = io.BytesIO()
    PickleFileProcessor().dump({'frame': frame}, buffer)
    assert buffer.getvalue()[:2] == b'\x80\x05'
    loaded = dill.loads(buffer.getvalue())  # how gokart 1.12.2 reads it
    pd.testing.assert_frame_equal(loaded['frame'], frame)


def test_pickle_falls_back_to_dill_for_lambdas_and_local_classes() -> None:
    class Local:
        def __init__(self) -> None:
            self.value = 7

    loaded = dump_and_load(PickleFileProcessor(), {'f': lambda x: x + 1, 'obj': Local()})
    assert loaded['f'](1) == 2
    assert loaded['obj'].value == 7


def test_pickle_stores_main_module_classes_by_value(monkeypatch: pytest.MonkeyPatch) -> None:
    main = sys.modules['__main__']
    scripted = type('Scripted', (), {'__module__': '__main__', 'answer': lambda self: 42})
    monkeypatch.setattr(main, 'Scripted', scripted, raising=False)
    buffer = io.BytesIO()
    PickleFileProcessor().dump(scripted(), buffer)
    monkeypatch.delattr(main, 'Scripted')  # a later script that does not define the class
    buffer.seek(0)
    assert PickleFileProcessor().load(buffer).answer() == 42


def test_pickle_reads_gokart_dill_protocol_4_files() -> None:
    obj = {'frame': pd.DataFrame({'a': [1.5]}), 'f': lambda: 'from dill'}
    loaded = PickleFileProcessor().load(io.BytesIO(dill.dumps(obj, protocol=4)))
    assert loaded['f']() == 'from dill'
    pd.testing.assert_frame_equal(loaded['frame'], obj['frame'])


class _UploadStream(io.RawIOBase):
    """A write-only stream that cannot seek, like an object-storage upload; records write sizes."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.write_sizes: list[int] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.write_sizes.append(len(b))
        self.data += bytes(b)
        return len(b)


def test_pickle_fallback_leaves_no_partial_bytes_on_a_stream_that_cannot_rewind() -> None:
    stream = _UploadStream()
    obj = [np.arange(1000), lambda: 'late']  # the lambda fails the standard pickler midway
    PickleFileProcessor().dump(obj, stream)
    loaded = PickleFileProcessor().load(io.BytesIO(bytes(stream.data)))
    np.testing.assert_array_equal(loaded[0], obj[0])
    assert loaded[1]() == 'late'


def test_pickle_writes_in_bounded_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickling, 'WRITE_CHUNK_BYTES', 1000)
    stream = _UploadStream()
    array = np.arange(100_000, dtype=np.int64)
    PickleFileProcessor().dump(array, stream)
    assert max(stream.write_sizes) <= 1000
    np.testing.assert_array_equal(pickle.loads(bytes(stream.data)), array)


@pytest.mark.parametrize('cut', [0, 10, -1])
def test_truncated_pickle_raises_with_the_original_error(cut: int) -> None:
    data = pickle.dumps(list(range(100)), protocol=5)
    with pytest.raises(FileLoadError) as raised:
        PickleFileProcessor().load(io.BytesIO(data[:cut]))
    assert raised.value.__cause__ is not None


@pytest.mark.parametrize(('path', 'magic'), [('x.xz', b'\xfd7zXZ\x00'), ('x.lzma', b'\x5d\x00\x00')])
def test_lzma_pickle_round_trip(path: str, magic: bytes) -> None:
    processor = make_file_processor(path)
    buffer = io.BytesIO()
    frame = pd.DataFrame({'a': range(1000)})
    processor.dump({'frame': frame, 'f': lambda: 1}, buffer)
    assert buffer.getvalue().startswith(magic)
    assert len(buffer.getvalue()) < len(pickle.dumps(frame))
    buffer.seek(0)
    loaded = processor.load(buffer)
    pd.testing.assert_frame_equal(loaded['frame'], frame)
    assert loaded['f']() == 1
    assert pickle.loads(lzma.decompress(buffer.getvalue()))['frame'].shape == (1000, 1)


def test_lzma_truncated_raises() -> None:
    buffer = io.BytesIO()
    LzmaPickleFileProcessor().dump(list(range(10_000)), buffer)
    with pytest.raises(FileLoadError):
        LzmaPickleFileProcessor().load(io.BytesIO(buffer.getvalue()[:-20]))


# --- text, gzip, xml, binary, npz -------------------------------------------------------------


@pytest.mark.parametrize(
    ('obj', 'written', 'loaded'),
    [
        (['a', 'b  ', 3], b'a\nb  \n3\n', ['a', 'b', '3']),
        ('one\ntwo\r\nthree ', b'one\ntwo\r\nthree ', ['one', 'two', 'three']),
        (b'abc', b"b'abc'", ["b'abc'"]),
        ('', b'', []),
    ],
)
def test_text_keeps_gokarts_layout(obj: Any, written: bytes, loaded: list[str]) -> None:
    buffer = io.BytesIO()
    TextFileProcessor().dump(obj, buffer)
    assert buffer.getvalue() == written
    buffer.seek(0)
    assert TextFileProcessor().load(buffer) == loaded
    assert not buffer.closed


def test_gzip_text_is_deterministic_and_utf8() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    GzipFileProcessor().dump(['ünï', 'x '], first)
    GzipFileProcessor().dump(['ünï', 'x '], second)
    assert first.getvalue() == second.getvalue()
    assert gzip.decompress(first.getvalue()) == 'ünï\nx \n'.encode()
    first.seek(0)
    assert GzipFileProcessor().load(first) == ['ünï', 'x']


def test_gzip_truncated_raises() -> None:
    buffer = io.BytesIO()
    GzipFileProcessor().dump(['line'] * 1000, buffer)
    with pytest.raises(EOFError):
        GzipFileProcessor().load(io.BytesIO(buffer.getvalue()[:-10]))


def test_xml_dump_works_and_round_trips() -> None:
    root = ET.Element('root')
    ET.SubElement(root, 'item', attrib={'id': '1'}).text = 'ünïcödé'
    loaded = dump_and_load(XmlFileProcessor(), ET.ElementTree(root))
    assert ET.tostring(loaded.getroot()) == ET.tostring(root)


def test_xml_empty_file_is_empty_tree_but_malformed_raises() -> None:
    assert XmlFileProcessor().load(io.BytesIO(b'')).getroot() is None
    with pytest.raises(ET.ParseError):
        XmlFileProcessor().load(io.BytesIO(b'<root><item></root>'))
    with pytest.raises(AssertionError):
        XmlFileProcessor().dump('<root/>', io.BytesIO())


def test_binary_and_npz_round_trip() -> None:
    assert dump_and_load(BinaryFileProcessor(), b'\x89PNG\x00') == b'\x89PNG\x00'
    array = np.random.default_rng(0).random((3, 4))
    np.testing.assert_array_equal(dump_and_load(NpzFileProcessor(), array), array)
    with pytest.raises(AssertionError):
        NpzFileProcessor().dump([1, 2], io.BytesIO())


# --- tabular ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('processor', 'obj', 'message'),
    [
        (CsvFileProcessor(), [1], "requires pd.DataFrame or pd.Series, but <class 'list'> is passed."),
        (JsonFileProcessor(), [1], "requires pd.DataFrame or pd.Series or dict, but <class 'list'> is passed."),
        (ParquetFileProcessor(), pd.Series([1]), "requires pd.DataFrame, but <class 'pandas.Series'> is passed."),
        (FeatherFileProcessor(True), pl.DataFrame({'a': [1]}), 'requires pd.DataFrame, but'),
        (CsvFileProcessor(dataframe_type='polars'), pd.DataFrame({'a': [1]}), 'requires pl.DataFrame or pl.LazyFrame, but'),
    ],
)
def test_wrong_object_type_is_a_type_error(processor: FileProcessor, obj: Any, message: str) -> None:
    with pytest.raises(TypeError) as raised:
        processor.dump(obj, io.BytesIO())
    assert str(raised.value).startswith(message)


def test_csv_drops_the_index_and_empty_file_is_empty_frame() -> None:
    frame = pd.DataFrame({'a': [1, 2]}, index=[5, 6])
    pd.testing.assert_frame_equal(dump_and_load(CsvFileProcessor(), frame), frame.reset_index(drop=True))
    assert dump_and_load(CsvFileProcessor(), pd.DataFrame()).empty


def test_csv_custom_encoding_writes_those_bytes() -> None:
    buffer = io.BytesIO()
    CsvFileProcessor(encoding='cp932').dump(pd.DataFrame({'名前': ['東京']}), buffer)
    assert buffer.getvalue() == '名前\n東京\n'.encode('cp932')


def test_json_dict_and_orient_records_is_json_lines() -> None:
    assert dump_and_load(JsonFileProcessor(), {'a': [1, 2]}).to_dict() == {'a': {0: 1, 1: 2}}
    buffer = io.BytesIO()
    make_file_processor('x.ndjson').dump(pd.DataFrame({'a': [1, 2]}, index=[7, 8]), buffer)
    assert buffer.getvalue() == b'{"a":1}\n{"a":2}\n'


def _parquet_codec(data: bytes) -> str:
    return str(pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).compression)


@pytest.mark.parametrize(
    ('dataframe_type', 'compression', 'codec'),
    [
        ('pandas', None, 'SNAPPY'),
        ('polars', None, 'ZSTD'),
        ('pandas', 'gzip', 'GZIP'),
        ('polars', 'gzip', 'GZIP'),
        ('pandas', 'zstd', 'ZSTD'),
        ('polars', 'snappy', 'SNAPPY'),
        ('pandas', 'none', 'UNCOMPRESSED'),
        ('polars', 'none', 'UNCOMPRESSED'),
    ],
)
def test_parquet_defaults_to_the_librarys_codec_and_gzip_is_one_option_away(
    dataframe_type: Any, compression: str | None, codec: str
) -> None:
    frame = pd.DataFrame({'a': [1, 2, 3]}) if dataframe_type == 'pandas' else pl.DataFrame({'a': [1, 2, 3]})
    buffer = io.BytesIO()
    ParquetFileProcessor(compression=compression, dataframe_type=dataframe_type).dump(frame, buffer)
    assert _parquet_codec(buffer.getvalue()) == codec


@pytest.mark.parametrize('name', ['key', None])
def test_feather_keeps_the_index_in_gokarts_column(name: str | None) -> None:
    frame = pd.DataFrame({'a': [1.0, 2.0]}, index=pd.Index(['x', 'y'], name=name))
    buffer = io.BytesIO()
    FeatherFileProcessor(store_index_in_feather=True).dump(frame, buffer)
    assert list(frame.columns) == ['a']  # the caller's frame is untouched
    assert pd.read_feather(io.BytesIO(buffer.getvalue())).columns.tolist() == ['a', f'__feather_gokart_index__{name}']
    buffer.seek(0)
    pd.testing.assert_frame_equal(FeatherFileProcessor(store_index_in_feather=True).load(buffer), frame)


def test_feather_without_index_and_index_name_checks() -> None:
    frame = pd.DataFrame({'a': [1, 2]})
    pd.testing.assert_frame_equal(dump_and_load(FeatherFileProcessor(store_index_in_feather=False), frame), frame)
    with pytest.raises(AssertionError):
        FeatherFileProcessor(True).dump(frame.rename_axis('None'), io.BytesIO())
    with pytest.raises(AssertionError):
        FeatherFileProcessor(True).dump(pd.DataFrame({'__feather_gokart_index__None': [1]}), io.BytesIO())


@pytest.mark.parametrize('path', ['x.csv', 'x.ndjson', 'x.parquet', 'x.feather'])
def test_polars_empty_file_is_an_empty_frame_but_garbage_raises(path: str) -> None:
    for dataframe_type, frame_type in [('polars', pl.DataFrame), ('polars-lazy', pl.LazyFrame)]:
        processor = make_file_processor(path, dataframe_type=dataframe_type)  # type: ignore[arg-type]
        assert isinstance(processor.load(io.BytesIO(b'')), frame_type)
    if path.endswith(('.parquet', '.feather')):
        with pytest.raises(Exception):  # noqa: B017 - polars' own error type is not part of our contract
            make_file_processor(path, dataframe_type='polars').load(io.BytesIO(b'not a columnar file'))


@pytest.mark.parametrize('path', ['x.parquet', 'x.feather'])
def test_truncated_columnar_file_raises(path: str) -> None:
    buffer = io.BytesIO()
    make_file_processor(path).dump(pd.DataFrame({'a': range(1000)}), buffer)
    with pytest.raises(Exception):  # noqa: B017 - pyarrow's error type is not part of our contract
        make_file_processor(path).load(io.BytesIO(buffer.getvalue()[:-100]))


@pytest.mark.parametrize('path', ['x.pkl', 'x.csv', 'x.parquet', 'x.feather', 'x.npz', 'x.gz', 'x.xz', 'x.json'])
def test_remote_file_without_a_name_works(path: str) -> None:
    fs = fsspec.filesystem('memory')
    obj: Any = np.arange(5) if path.endswith('.npz') else ['a'] if path.endswith('.gz') else pd.DataFrame({'a': [1, 2]})
    processor = make_file_processor(path)
    with fs.open(f'/remote/{path}', 'wb') as file:
        processor.dump(obj, file)
    with fs.open(f'/remote/{path}', 'rb') as file:
        loaded = processor.load(file)
    if isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(loaded, obj)
    elif isinstance(obj, np.ndarray):
        np.testing.assert_array_equal(loaded, obj)
    else:
        assert loaded == obj


def test_package_exports_the_contract() -> None:
    for name in ['FileProcessor', 'DataFrameType', 'make_file_processor', 'register_file_processor', 'known_extensions']:
        assert name in file_processor.__all__
