import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from conftest import CONFIG_SCHEMA, REPO
from ddprune.study import ConfigError, Run, load_study
from ddprune.study.config import profile_placeholders
from ddprune.study.pruning_methods import PRUNE_METHODS


def default_config():
    return yaml.safe_load((REPO / "config.yaml").read_text())


def test_default_study_is_valid_and_fills_defaults():
    study = load_study(default_config(), CONFIG_SCHEMA)
    assert study.name == "digits-mlp"
    assert len(study.runs) == 14 * 6
    assert study.config["platform"]["eval_batch_size"] == 4096


def test_defaults_fill_missing_sections():
    minimal = {"study": "s", "sweep": [{"dataset": "digits", "model": "mlp", "widths": [4]}]}
    study = load_study(minimal, CONFIG_SCHEMA)
    assert study.runs == [Run("digits", "mlp", 4, 0.0, 0)]
    assert study.config["train"]["optimizer"] == "adam"
    assert study.dataset_options("digits") == {
        "root": "data",
        "n_train": 1000,
        "n_validation": 300,
        "split_seed": 0,
    }
    assert "train" not in minimal  # the caller's dict is not modified


def edit(path, value):
    def apply(config):
        *parents, last = path
        node = config
        for key in parents:
            node = node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value

    return apply


DELETE = object()


@pytest.mark.parametrize(
    "change, expected",
    [
        (edit(["trian"], {}), ["<top level>", "'trian'", "allowed keys", "train"]),
        (edit(["train", "lrr"], 0.1), ["train:", "'lrr'", "allowed keys", "'lr'"]),
        (edit(["train", "optimizer"], "adamw"), ["train.optimizer", "'adamw'", "adam", "sgd"]),
        (edit(["train", "lr"], -1.0), ["train.lr", "-1.0", "minimum", "allowed: 0 < x <= 10"]),
        (edit(["train", "lr"], 1.0e12), ["train.lr", "1000000000000.0", "0 < x <= 10"]),
        (edit(["train", "weight_decay"], 1.0e12), ["train.weight_decay", "0 <= x <= 1"]),
        (edit(["train", "lr"], "fast"), ["train.lr", "'fast'", "number"]),
        (edit(["sweep", 0, "noise"], [1.5]), ["sweep[0].noise[0]", "1.5", "maximum"]),
        (edit(["sweep", 0, "widths"], []), ["sweep[0].widths", "should be non-empty"]),
        (edit(["sweep", 0, "dataset"], "imagenet"), ["sweep[0].dataset", "'imagenet'", "digits"]),
        (edit(["sweep", 0, "model"], "vit"), ["sweep[0].model", "'vit'", "mlp"]),
        (edit(["study"], "bad name!"), ["study", "does not match"]),
        (edit(["study"], DELETE), ["<top level>", "'study' is a required property"]),
        (edit(["platform", "device"], "tpu"), ["platform.device", "'tpu'", "cuda"]),
        (edit(["datasets", "digits", "n_train"], 5000), ["datasets.digits.n_train", "maximum"]),
        # Numbers far beyond any sensible range: rejected before any job, never run for ever.
        (edit(["prune", "rounds"], 10**12), ["prune.rounds", "maximum of 1000"]),
        (
            lambda c: c["prune"].update(rounds=60, fraction=0.45, budgets=None),
            ["prune.rounds", "keep", "allowed: at most 30 rounds"],
        ),
        (edit(["platform", "threads"], 10**12), ["platform.threads", "maximum of 1024"]),
        (edit(["threshold", "neighbours"], 10**12), ["threshold.neighbours", "maximum"]),
        (edit(["threshold", "neighbours"], 14), ["threshold.neighbours", "allowed: 0 to 13"]),
        (edit(["threshold", "bootstrap"], 10**12), ["threshold.bootstrap", "maximum"]),
        (edit(["threshold", "smoothing"], 15), ["threshold.smoothing", "allowed: 1 to 14"]),
        (
            edit(["answer", "primary", "method"], "oneshot"),
            ["answer.primary.method", "not pruned", "imp-rewind"],
        ),
        (
            edit(["prune", "methods"], ["random-rewind"]),
            ["prune.methods", "random-rewind keeps imp-rewind's", "add imp-rewind"],
        ),
        (edit(["threshold", "criterion"], "test_error_peak"), ["threshold.criterion", "val_"]),
        (edit(["datasets", "digits", "n_validation"], 0), ["n_validation", "minimum"]),
        (
            edit(["datasets", "digits", "n_validation"], 800),
            ["datasets.digits.n_validation", "n_train + n_validation <= 1787"],
        ),
        (edit(["threshold", "epochwise", "width"], 7), ["epochwise.width", "not a trained width"]),
        (edit(["threshold", "epochwise", "neighbours"], 100), ["epochwise.neighbours", "0 to 60"]),
        (edit(["train", "max_epochs"], 10**12), ["train.max_epochs", "maximum"]),
        (
            edit(["train", "eval_every"], 10**6),
            ["train.eval_every: 1000000 is more than train.max_epochs", "allowed: 1 to 3000"],
        ),
        (edit(["prune", "epochs"], 10**12), ["prune.epochs", "maximum"]),
        (
            lambda c: (
                c["train"].update(weight_decay=0.01) or c.update(baselines={"weight_decay": [0.01]})
            ),
            ["baselines.weight_decay", "repeats train.weight_decay (0.01)", "other than it"],
        ),
        (
            lambda c: c.update(baselines={"weight_decay": [2.0]}),
            ["baselines.weight_decay[0]", "0 < x <= 1"],
        ),
        (edit(["prune", "stop"], "early"), ["prune.stop", "validation", "fixed"]),
        (
            edit(["prune", "stop"], "fixed"),
            ["prune.patience: 300", "allowed: null with prune.stop fixed"],
        ),
        (edit(["sweep", 0, "widths"], [2, 10**12]), ["sweep[0].widths[1]", "maximum"]),
        (edit(["prune", "budgets"], [100, 200]), ["prune.budgets", "decrease strictly"]),
        (edit(["prune", "budgets"], [100, 0]), ["prune.budgets[1]", "minimum of 1"]),
        (
            lambda c: c["prune"].update(budgets=[100], sparsities=[0.5]),
            ["prune.budgets and prune.sparsities", "not both"],
        ),
    ],
)
def test_bad_config_names_the_field_and_what_is_allowed(change, expected):
    config = default_config()
    change(config)
    with pytest.raises(ConfigError) as error:
        load_study(config, CONFIG_SCHEMA)
    for fragment in expected:
        assert fragment in str(error.value), str(error.value)


def numeric_fields(node, where: str = ""):
    """Every number or integer the config schema accepts, with its path in the schema."""
    if isinstance(node, dict):
        kinds = node.get("type") if isinstance(node.get("type"), list) else [node.get("type")]
        if {"number", "integer"} & set(kinds):
            yield where, node
        for key, child in node.items():
            yield from numeric_fields(child, f"{where}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from numeric_fields(child, f"{where}[{i}]")


def test_every_numeric_field_has_a_sane_range():
    """No number is accepted unbounded (train.lr: 1e12 once started a study)."""
    fields = dict(numeric_fields(yaml.safe_load(CONFIG_SCHEMA.read_text())))
    assert len(fields) > 50
    for where, node in fields.items():
        if "enum" in node or "const" in node:
            continue
        assert {"minimum", "exclusiveMinimum"} & set(node), f"{where}: no lower bound"
        assert {"maximum", "exclusiveMaximum"} & set(node), f"{where}: no upper bound"


def test_every_problem_is_reported_at_once():
    config = default_config()
    config["train"]["lr"] = 0
    config["sweep"][0]["seeds"] = [-1]
    with pytest.raises(ConfigError, match=r"2 problem") as error:
        load_study(config, CONFIG_SCHEMA)
    assert "train.lr" in str(error.value) and "sweep[0].seeds[0]" in str(error.value)


def test_a_run_listed_twice_is_rejected():
    config = default_config()
    config["sweep"].append(copy.deepcopy(config["sweep"][0]))
    with pytest.raises(ConfigError, match=r"sweep\[1\].*already in sweep\[0\]"):
        load_study(config, CONFIG_SCHEMA)


@pytest.mark.parametrize(
    "path",
    [
        *sorted((REPO / "configs").glob("*.yaml")),
        *[REPO / "tests" / "configs" / name for name in ("tiny.yaml", "closed-form.yaml")],
        REPO / "config.yaml",
    ],
)
def test_shipped_configs_are_valid(path: Path, caplog):
    """As ``--configfile`` uses them: merged over config.yaml (an overlay may be partial),
    and without a setting that another silently overrides."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load(path.read_text()))
    with caplog.at_level("WARNING", logger="ddprune.study.config"):
        load_study(config, CONFIG_SCHEMA)
    assert "ignored" not in caplog.text


def test_run_wildcards_round_trip():
    run = Run("digits", "mlp", 48, 0.2, 1)
    assert run.wildcards == {
        "dataset": "digits",
        "model": "mlp",
        "width": "48",
        "noise": "0.2",
        "seed": "1",
    }
    assert Run.from_wildcards(run.wildcards) == run


def test_checkpoint_every_moved_to_train_and_old_configs_still_work():
    old = default_config()
    old["platform"]["checkpoint_every"] = 200
    study = load_study(old)
    assert study.config["train"]["checkpoint_every"] == 200
    assert "checkpoint_every" not in study.config["platform"]
    assert load_study(default_config()).config["train"]["checkpoint_every"] == 500
    both = default_config()
    both["train"]["checkpoint_every"] = 300
    both["platform"]["checkpoint_every"] = 100
    with pytest.raises(ConfigError, match=r"platform\.checkpoint_every: 100 disagrees"):
        load_study(both)


def test_nested_command_line_values_are_coerced_by_the_schema():
    """Snakemake passes ``--config train='{max_epochs: 3}'`` values as text."""
    config = default_config()
    config["train"] = {"max_epochs": "3000", "lr": "0.01", "batch_size": "null"}
    config["platform"] = {"compact": "false"}
    study = load_study(config, CONFIG_SCHEMA)
    assert (study.train.max_epochs, study.train.lr, study.train.batch_size) == (3000, 0.01, None)
    assert study.platform.compact is False
    config["train"] = {"max_epochs": "three"}
    with pytest.raises(ConfigError, match=r"train\.max_epochs: 'three' has the wrong type"):
        load_study(config, CONFIG_SCHEMA)


def test_a_schedule_that_another_overrides_is_named(caplog):
    config = default_config()
    config["prune"] = {**config.get("prune", {}), "budgets": [100, 50], "fraction": 0.5}
    with caplog.at_level("WARNING", logger="ddprune.study.config"):
        load_study(config, CONFIG_SCHEMA)
    assert "prune.fraction is ignored: prune.budgets is set" in caplog.text


def test_lists_that_are_registries_are_filled_in_from_them():
    """``x-registry`` in the schema: a registered record is accepted without a schema edit,
    and an unknown name is refused naming the registered ones."""
    schema = yaml.safe_load(CONFIG_SCHEMA.read_text())
    prune, answer = schema["properties"]["prune"], schema["properties"]["answer"]
    threshold = schema["properties"]["threshold"]["properties"]
    assert prune["properties"]["methods"]["items"] == {"x-registry": "pruning-methods"}
    assert answer["properties"]["primary"]["properties"]["method"]["x-registry"]
    assert threshold["criterion"]["x-registry"] == threshold["fallback"]["x-registry"]
    config = default_config()
    config["threshold"] = {"criterion": "test_error_peak", "fallback": "nothing"}
    config["prune"] = {"methods": ["imp-rewind", "magic"]}
    with pytest.raises(ConfigError) as error:
        load_study(config, CONFIG_SCHEMA)
    message = str(error.value)
    for fragment in (
        "threshold.criterion: 'test_error_peak' is not allowed; allowed values: "
        "['val_error_peak', 'val_loss_peak', 'interpolation']",
        "threshold.fallback: 'nothing' is not allowed; allowed values: "
        "['val_error_peak', 'val_loss_peak', 'interpolation', 'none']",
        "prune.methods[1]: 'magic' is not allowed; allowed values: ",
    ):
        assert fragment in message, message
    assert all(name in message for name in PRUNE_METHODS.names())


def test_a_profile_with_its_placeholders_in_place_is_named_on_the_console(tmp_path):
    """Planning with the SLURM profile (in every test run: no cluster needed): the shipped
    profile, unedited, names both placeholders, however it is given; edited,
    nothing."""
    profile = str(REPO / "profiles" / "slurm")
    shipped = Path(profile, "config.yaml").read_text()
    for argv, environ in (
        (["snakemake", "--profile", profile, "-n"], {}),
        (["snakemake", f"--profile={profile}"], {}),
        (["snakemake", "-n"], {"SNAKEMAKE_PROFILE": profile}),
    ):
        found = profile_placeholders(argv, environ)
        assert [line.split(": ", 2)[2] for line in found] == [
            "slurm_account: EDIT-your-account",
            "slurm_partition: EDIT-your-partition",
        ]
    edited = tmp_path / "slurm"
    edited.mkdir()
    text = shipped.replace("EDIT-your-account", "lab").replace("EDIT-your", "gpu")
    (edited / "config.yaml").write_text(text)
    assert profile_placeholders(["snakemake", "--profile", str(edited)], {}) == []
    assert profile_placeholders(["snakemake", "-n"], {}) == []
