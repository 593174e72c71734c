"""Pre-registration: the record precedes the results, and a study that departs from it refuses
to run or answer, naming the field and the registration's time."""

from __future__ import annotations

import copy

import pytest
import yaml

from conftest import CONFIG_SCHEMA, REPO
from ddprune.study import load_study
from ddprune.study.registration import RegistrationError, load_registration, register


def study(change=None):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    if change:
        change(config)
    return load_study(copy.deepcopy(config), CONFIG_SCHEMA)


def test_the_first_run_writes_the_record_before_any_result(tmp_path):
    path = tmp_path / "results/digits-mlp/preregistration.yaml"
    written = register(path, study())
    assert written.before_results and written.kind == "pre-registered"
    record = yaml.safe_load(path.read_text())
    assert record["primary"] == {"method": "imp-rewind", "baseline": "early-stopped"}
    assert record["families"] == ["digits/mlp/noise0.2"]
    assert record["alpha"] == 0.05 and set(record["sections"]) >= {"train", "prune", "answer"}
    assert load_registration(path) == written
    assert register(path, study()) == written, "a second run reads it, never rewrites it"
    assert "registered on " + written.registered in written.quote()
    assert "before any training result existed" in written.quote()


def test_a_record_written_after_results_is_a_designation(tmp_path):
    root = tmp_path / "results/digits-mlp"
    (root / "train").mkdir(parents=True)
    (root / "train/metrics.parquet").write_bytes(b"")
    written = register(root / "preregistration.yaml", study())
    assert not written.before_results and written.kind == "designated"
    assert "designates rather than pre-registers" in written.quote()


def test_a_changed_primary_or_design_refuses_naming_the_field_and_the_time(tmp_path):
    path = tmp_path / "preregistration.yaml"
    written = register(path, study())

    def other_primary(config):
        config["answer"]["primary"]["method"] = "random-rewind"

    with pytest.raises(RegistrationError) as error:
        register(path, study(other_primary))
    message = str(error.value)
    assert f"registered study 'digits-mlp' on {written.registered}" in message
    assert "answer.primary: registered {'method': 'imp-rewind'" in message
    assert "'random-rewind'" in message and "study: NAME" in message

    def longer_rounds(config):
        config["prune"]["patience"] = 600

    with pytest.raises(
        RegistrationError, match=r"prune\.patience: registered 300, the config says 600"
    ):
        register(path, study(longer_rounds))

    def more_threads(config):
        config["platform"]["threads"] = 2  # changes no number

    assert register(path, study(more_threads)) == written


def test_an_option_added_after_the_registration_is_no_departure_at_its_default(tmp_path):
    """A later version of ddprune adds prune.stop: a record written before it knew the key
    still describes a study that keeps its default, and not one that changes it."""
    path = tmp_path / "preregistration.yaml"
    register(path, study())
    record = yaml.safe_load(path.read_text())
    del record["design"]["prune"]["stop"]
    record["sections"]["prune"] = "written by an older version"
    path.write_text(yaml.safe_dump(record))
    register(path, study())

    def fixed(config):
        config["prune"].update(stop="fixed", patience=None)

    with pytest.raises(RegistrationError) as error:
        register(path, study(fixed))
    assert "prune.stop: registered (absent), the config says 'fixed'" in str(error.value)
    assert "prune.patience: registered 300, the config says None" in str(error.value)
    # a whole section added later (baselines) is no departure at its defaults either
    del record["design"]["baselines"], record["sections"]["baselines"]
    path.write_text(yaml.safe_dump(record))
    register(path, study())

    def untuned(config):
        config["baselines"] = {"weight_decay": []}

    with pytest.raises(RegistrationError) as error:
        register(path, study(untuned))
    assert "baselines.weight_decay: registered (absent), the config says []" in str(error.value)
