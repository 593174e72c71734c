import pandas as pd
import pytest

from conftest import SCHEMAS
from ddprune.foundations.atomic import atomic_path
from ddprune.foundations.tables import (
    SchemaError,
    TableSchema,
    frame,
    read_table,
    validate_table,
    write_table,
)


def label_rows(n=4):
    return [
        {
            "study": "s",
            "dataset": "digits",
            "noise": 0.5,
            "noise_kind": "incorrect-class",
            "seed": 0,
            "split": "train",
            "index": i,
            "label_clean": i % 2,
            "label_noisy": (i + 1) % 2 if i < 2 else i % 2,
            "is_noisy": i < 2,
        }
        for i in range(n)
    ]


def test_round_trip(tmp_path, labels_schema):
    df = frame(label_rows(), labels_schema)
    write_table(df, tmp_path / "t.parquet", labels_schema)
    back = read_table(tmp_path / "t.parquet", labels_schema)
    pd.testing.assert_frame_equal(back, df)


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda df: df.drop(columns="is_noisy"), "missing columns \\['is_noisy'\\]"),
        (lambda df: df.assign(extra=1), "unexpected columns \\['extra'\\]"),
        (lambda df: df.assign(seed=df["seed"].astype("float64")), "'seed' has dtype float64"),
        (lambda df: df.assign(noise=1.5), "'noise' has 1.5 > maximum 1"),
        (lambda df: df.assign(label_clean=-1), "'label_clean' has -1 < minimum 0"),
        (lambda df: df.assign(index=0), "not unique by key"),
        (lambda df: df.assign(noise=float("nan")), "'noise' has missing values"),
    ],
)
def test_a_table_that_breaks_its_schema_is_rejected(labels_schema, breakage, message):
    df = breakage(frame(label_rows(), labels_schema))
    with pytest.raises(SchemaError, match=message):
        validate_table(df, labels_schema)


def test_a_rejected_table_leaves_the_file_on_disk_untouched(tmp_path, labels_schema):
    path = tmp_path / "t.parquet"
    good = frame(label_rows(), labels_schema)
    write_table(good, path, labels_schema)
    with pytest.raises(SchemaError):
        write_table(good.assign(noise=2.0), path, labels_schema)
    pd.testing.assert_frame_equal(read_table(path, labels_schema), good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]


def test_atomic_path_never_exposes_a_partial_file(tmp_path):
    path = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_nullable_columns_accept_missing_values(dense_schema):
    row = {c: 0 for c in dense_schema.columns} | {
        "study": "s",
        "dataset": "digits",
        "model": "mlp",
        "width": 1,
        "n_params": 1,
        "n_train": 1,
        "n_test": 1,
        "data_sha256": "0" * 64,
        "error_metric": "classification_error",
        "noise_kind": "incorrect-class",
        "memorization": None,
    }
    df = frame([row], dense_schema)
    assert df["memorization"].isna().all()
    validate_table(df, dense_schema)


def test_a_damaged_table_names_its_file_and_the_console_says_how_to_rebuild_it(tmp_path):
    import subprocess
    import sys

    from ddprune.foundations.tables import DamagedFile

    path = tmp_path / "dense.parquet"
    write_table(frame(label_rows(), "labels"), path, "labels")
    path.write_bytes(path.read_bytes()[:50])  # truncated
    with pytest.raises(DamagedFile) as error:
        read_table(path, "labels")
    assert error.value.path == str(path) and "truncated or corrupted" in str(error.value)
    script = (
        "import sys\n"
        "from ddprune.jobs.snakemake import name_damaged_files\n"
        "from ddprune.foundations.tables import read_table\n"
        "sys.excepthook = name_damaged_files(sys.excepthook)\n"
        f"read_table({str(path)!r}, 'labels')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"rm {path} && snakemake --cores N {path} -- then run the study again" in (result.stderr)


def test_a_table_of_another_version_is_named_with_its_rebuild(tmp_path):
    """A table that reads but lacks a column this version writes (results of an earlier
    ddprune) is refused naming the file and the columns, and ``ddprune`` says how to rebuild
    it instead of a traceback."""
    from ddprune.cli import main
    from ddprune.foundations.tables import OutdatedTable

    path = tmp_path / "labels.parquet"
    frame(label_rows(), "labels").drop(columns=["noise_kind"]).to_parquet(path)
    with pytest.raises(OutdatedTable, match=r"missing columns \['noise_kind'\]") as error:
        read_table(path, "labels")
    assert error.value.path == str(path) and "written by another version" in str(error.value)
    results = tmp_path / "results"
    results.mkdir()
    frame(label_rows(), "labels").to_parquet(results / "comparisons.parquet")
    (results / "dense.parquet").write_bytes(b"")
    assert main(["compare", str(results), str(results)]) == 2


def test_identifying_columns_are_defined_once_and_may_only_reword_their_description(tmp_path):
    names = [p.name.removesuffix(".schema.yaml") for p in SCHEMAS.glob("*.schema.yaml")]
    tables = [TableSchema.named(n) for n in names if n not in {"config", "threshold"}]
    kinds = [t.columns["noise_kind"] for t in tables if "noise_kind" in t.columns]
    assert len(kinds) == 9 and all(k["allowed"] == kinds[0]["allowed"] for k in kinds)
    # a table that extends another has its columns, then its own
    dense, tuning = TableSchema.named("dense"), TableSchema.named("tuning")
    assert list(tuning.columns) == [*dense.columns, "weight_decay"]
    assert "weight_decay" in tuning.key and set(dense.key) < set(tuning.key)
    (tmp_path / "columns.yaml").write_text((SCHEMAS / "columns.yaml").read_text())
    (tmp_path / "t.schema.yaml").write_text(
        "title: t\ncolumns:\n  seed: {like: seed, minimum: 5}\n"
    )
    with pytest.raises(SchemaError, match="may override only its description"):
        TableSchema.load(tmp_path / "t.schema.yaml")
