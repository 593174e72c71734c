"""Pruning: exact sparsity, masks that hold through training, rewinding, controls, resume."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch

from ddprune.data.datasets import Dataset, load_dataset
from ddprune.data.feed import Feed
from ddprune.data.noise import draw_noise
from ddprune.data.run_data import RunData
from ddprune.foundations.tables import TableSchema
from ddprune.models import build_model
from ddprune.pruning import scores as scores_module
from ddprune.pruning.masks import MaskedWeights, prunable_weights
from ddprune.pruning.rounds import PruneJob, retraining_rates
from ddprune.pruning.rounds import prune_run as run_job
from ddprune.pruning.scores import SCORES, Sources, choose_masks, layer_counts, magnitude, select
from ddprune.study import load_study
from ddprune.study.hparams import Platform, PruneConfig, TrainConfig, keep_count
from ddprune.study.pruning_methods import PRUNE_METHODS, PruneMethod
from ddprune.training import session as session_module
from ddprune.training.components import OPTIMIZERS, make_feed, make_optimizer
from ddprune.training.evaluation import evaluate
from ddprune.training.loop import train_epoch

TRAIN = TrainConfig.of(max_epochs=100, eval_every=10, stop_at_train_error=None)
PLATFORM = Platform.of(device="cpu")
FAST = PruneConfig.of(rounds=3, fraction=0.3, epochs=20)


def prune_run(
    model,
    data,
    method,
    config,
    train,
    platform,
    rewind,
    identity,
    seed,
    directory,
    spec=None,
    *,
    source_epoch,
    layer_counts=None,
):
    """``prune_run`` of a job made of the arguments in the order these tests list them (a
    method by its name or as a record)."""
    job = PruneJob(
        method=PRUNE_METHODS[method] if isinstance(method, str) else method,
        prune=config,
        train=train,
        platform=platform,
        source_epoch=source_epoch,
        seed=seed,
        identity=identity,
        spec=spec or {},
        directory=Path(directory),
        layer_counts=layer_counts,
    )
    return run_job(model, data, job, rewind)


@pytest.fixture(scope="module")
def data() -> RunData:
    dataset = load_dataset("digits", {"n_train": 200, "n_validation": 100})
    return RunData.build(dataset, draw_noise(dataset, "digits", 0.2, 0), torch.device("cpu"))


def trained_model(data, width=32):
    torch.manual_seed(0)
    model = build_model("mlp", width, data.input_shape, data.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(50):
        loss = torch.nn.functional.cross_entropy(model(data.x_train), data.y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def run(data, tmp_path, method, config=FAST, model=None, rewind=None, layer_counts=None):
    model = model or trained_model(data)
    rows = prune_run(
        model,
        data,
        method,
        config,
        TRAIN,
        PLATFORM,
        rewind,
        {"width": 32},
        0,
        tmp_path,
        source_epoch=0,
        layer_counts=layer_counts,
    )
    return rows, model


def strip(rows):
    return [{k: v for k, v in r.items() if k != "wall_seconds"} for r in rows]


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("include_output", [False, True])
def test_sparsity_is_exact_after_every_round(data, tmp_path, scope, include_output):
    config = dataclasses.replace(FAST, scope=scope, prune_output_layer=include_output)
    rows, model = run(data, tmp_path, "imp-finetune", config)
    weights = prunable_weights(model, include_output)
    assert list(weights) == (["1.weight", "3.weight"] if include_output else ["1.weight"])
    assert [r["round"] for r in rows] == [0, 1, 2, 3]
    sizes = [w.numel() for w in weights.values()]
    schedule = config.schedule(sum(sizes))
    for row, (target, keep) in zip(rows[1:], schedule, strict=True):
        assert keep == keep_count(sum(sizes), 1 - target)
        assert row["n_prunable_nonzero"] == keep  # exact, in either scope
    if scope == "layer":
        kept = [int(w.count_nonzero()) for w in weights.values()]
        assert kept == layer_counts(sizes, schedule[-1][1])
    # biases are never pruned
    assert int(model[1].bias.count_nonzero()) == model[1].bias.numel()


@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
def test_masked_gradients_alone_keep_pruned_weights_and_their_state_at_zero(data, optimizer):
    """Every registered optimizer, with momentum and weight decay: masking the gradients (one
    multiply per step) keeps pruned weights exactly zero after every step and their optimizer
    state at zero, and trains the survivors to the same bits as masking the weights after
    every step as well."""
    config = TrainConfig.of(optimizer=optimizer, lr=0.05, momentum=0.9, weight_decay=1e-3)
    trained = trained_model(data)
    masks = magnitude_masks(prunable_weights(trained, True), 500)

    def retrain(also_weights: bool) -> torch.nn.Module:
        model = copy.deepcopy(trained)
        masked = MaskedWeights(model, masks)
        masked.apply_to_weights()
        optimizer = make_optimizer(config, model)
        if also_weights:
            optimizer.register_step_post_hook(lambda *_: masked.apply_to_weights())
        for _ in range(30):
            train_epoch(
                model,
                optimizer,
                data.x_train,
                data.y_train,
                64,
                torch.Generator().manual_seed(0),
                Feed(),
                masked,
            )
            for name, mask in masks.items():
                weight = model.get_parameter(name)
                assert torch.all(weight[~mask] == 0) and int(weight[mask].count_nonzero()) > 0
                for value in optimizer.state[weight].values():
                    if value.shape == weight.shape:
                        assert torch.all(value[~mask] == 0), name
        return model

    model, reference = retrain(False), retrain(True)
    assert all(
        torch.equal(a, b) for a, b in zip(model.parameters(), reference.parameters(), strict=True)
    )


@pytest.mark.parametrize("method", ["imp-finetune", "imp-lr-rewind", "oneshot", "random"])
def test_pruned_weights_stay_zero_through_training_and_never_revive(data, tmp_path, method):
    rows, model = run(data, tmp_path, method)
    state = torch.load(tmp_path / "round003.pt", weights_only=True)
    mask = state["masks"]["1.weight"]
    assert torch.all(model[1].weight[~mask] == 0)
    assert int((model[1].weight[mask] != 0).sum()) == int(mask.sum())  # survivors trained
    assert rows[-1]["epochs_spent"] == 20 and rows[-1]["epochs"] in (0, 10, 20)


def test_imp_masks_are_nested(data, tmp_path):
    run(data, tmp_path, "imp-finetune")
    masks = [
        torch.load(tmp_path / f"round{r:03d}.pt", weights_only=True)["masks"]["1.weight"]
        for r in (1, 2, 3)
    ]
    assert torch.all(masks[1] <= masks[0]) and torch.all(masks[2] <= masks[1])


def test_rewinding_restores_the_surviving_weights_exactly(data, tmp_path):
    torch.manual_seed(5)
    rewind = build_model("mlp", 32, data.input_shape, data.num_classes).state_dict()
    no_training = dataclasses.replace(FAST, rounds=1, epochs=0)
    _, model = run(data, tmp_path, "imp-rewind", no_training, rewind=rewind)
    mask = torch.load(tmp_path / "round001.pt", weights_only=True)["masks"]["1.weight"]
    assert torch.equal(model[1].weight[mask], rewind["1.weight"][mask])
    assert torch.all(model[1].weight[~mask] == 0)
    assert torch.equal(model[3].weight, rewind["3.weight"])  # unpruned layers rewind too


def test_random_rewind_keeps_imp_rewinds_counts_per_layer_and_rewinds_its_survivors(data, tmp_path):
    torch.manual_seed(5)
    rewind = build_model("mlp", 32, data.input_shape, data.num_classes).state_dict()
    both = dataclasses.replace(FAST, prune_output_layer=True)  # two layers, ranked globally
    imp, _ = run(data, tmp_path / "imp", "imp-rewind", both, rewind=rewind)
    counts = {row["round"]: json.loads(row["layer_counts"]) for row in imp if row["round"] > 0}
    share = counts[3]["1.weight"] / (counts[3]["1.weight"] + counts[3]["3.weight"])
    assert abs(share - 2048 / (2048 + 320)) > 0.01  # not the layers' proportions

    def random_rewind(config, directory, matched=counts):
        job = PruneJob(
            method=PRUNE_METHODS["random-rewind"],
            prune=config,
            train=TRAIN,
            platform=PLATFORM,
            source_epoch=0,
            seed=0,
            identity={"width": 32},
            spec={},
            directory=directory,
            layer_counts=matched,
        )
        model = trained_model(data)
        return run_job(model, data, job, rewind), model

    rows, _ = random_rewind(both, tmp_path / "random")
    assert [json.loads(r["layer_counts"]) for r in rows[1:]] == [counts[i] for i in (1, 2, 3)]
    imp_masks = torch.load(tmp_path / "imp" / "round001.pt", weights_only=True)["masks"]
    own = torch.load(tmp_path / "random" / "round001.pt", weights_only=True)["masks"]
    assert not torch.equal(own["1.weight"], imp_masks["1.weight"])  # other weights, same counts
    no_training = dataclasses.replace(both, rounds=1, epochs=0)
    _, model = random_rewind(no_training, tmp_path / "untrained")
    mask = torch.load(tmp_path / "untrained" / "round001.pt", weights_only=True)["masks"]
    assert torch.equal(model[1].weight[mask["1.weight"]], rewind["1.weight"][mask["1.weight"]])
    assert torch.all(model[1].weight[~mask["1.weight"]] == 0)
    # imp-rewind stopped after one round (it diverged): there is nothing more to match
    rows, _ = random_rewind(both, tmp_path / "short", {1: counts[1]})
    assert [r["round"] for r in rows] == [0, 1]


def magnitude_masks(weights, keep, scope="global"):
    return select(magnitude(weights, None, None, None), keep, scope)


def test_random_masks_match_magnitude_counts_per_layer():
    torch.manual_seed(0)
    weights = {"a": torch.randn(50, 20), "b": torch.randn(10, 50)}
    keep = keep_count(1500, 0.3)
    by_magnitude = magnitude_masks(weights, keep)
    random = choose_masks(
        PRUNE_METHODS["random"],
        weights,
        Sources(dense=weights, rewind=None),
        None,
        keep,
        "global",
        torch.Generator().manual_seed(1),
    )
    for name in weights:
        assert int(random[name].sum()) == int(by_magnitude[name].sum())
        assert not torch.equal(random[name], by_magnitude[name])
    assert sum(int(m.sum()) for m in by_magnitude.values()) == keep


def test_magnitude_ties_are_broken_by_position():
    masks = magnitude_masks({"a": torch.ones(10)}, 5)
    assert masks["a"].tolist() == [True] * 5 + [False] * 5


def test_every_method_names_registered_scores():
    for name in PRUNE_METHODS.names():
        method = PRUNE_METHODS[name]
        for score in filter(None, (method.score, method.counts_like)):
            SCORES[score]  # raises, naming the registered ones, if it is not


def test_a_new_score_is_one_function_and_one_record(data, tmp_path, monkeypatch):
    """A toy criterion -- keep the weights of the lowest-numbered inputs of every unit --
    plugs in as a score function and a method record; the round loop and the selection
    (exact counts, ties) are shared."""

    def first_inputs(weights, sources, current, generator):
        return {
            name: -torch.arange(w.shape[-1], dtype=torch.float32).expand_as(w).to(w.device)
            for name, w in weights.items()
        }

    registry = scores_module.Registry("pruning score")
    for name in SCORES.names():
        registry.add(name, SCORES[name])
    registry.add("first-inputs", first_inputs)
    monkeypatch.setattr(scores_module, "SCORES", registry)
    toy = PruneMethod("first-inputs", score="first-inputs", start="dense", rates="final")
    config = PruneConfig.of(sparsities=(0.5,), epochs=5, scope="layer")
    model = trained_model(data)
    prune_run(model, data, toy, config, TRAIN, PLATFORM, None, {}, 0, tmp_path, source_epoch=0)
    for weight in prunable_weights(model).values():
        inputs = weight.shape[-1]
        assert int(weight.count_nonzero()) <= weight.numel() // 2
        assert not weight[..., inputs // 2 + 1 :].any()  # only the first inputs survive
    # The config accepts the registered method by name; the tables keep no list of methods.
    monkeypatch.setitem(PRUNE_METHODS._entries, toy.name, toy)
    sweep = {"dataset": "digits", "model": "mlp", "widths": [8], "seeds": [0]}
    methods = {"prune": {"methods": [toy.name]}, "answer": {"primary": {"method": toy.name}}}
    study = load_study({"study": "s", "sweep": [sweep], **methods})
    assert study.prune.methods == (toy.name,)
    assert "allowed" not in TableSchema.named("pruning").columns["method"]


def test_oneshot_to_s_equals_one_imp_round_to_s(data, tmp_path):
    oneshot, _ = run(data, tmp_path / "a", "oneshot", PruneConfig.of(sparsities=(0.6,), epochs=20))
    imp, _ = run(
        data, tmp_path / "b", "imp-finetune", PruneConfig.of(rounds=1, fraction=0.6, epochs=20)
    )
    for a, b in zip(strip(oneshot), strip(imp), strict=True):
        assert {k: v for k, v in a.items() if k != "method"} == {
            k: v for k, v in b.items() if k != "method"
        }


def test_a_killed_job_resumes_after_its_last_finished_round(data, tmp_path):
    reference, _ = run(data, tmp_path / "reference", "random")
    directory = tmp_path / "killed"
    run(data, directory, "random")
    for late in ("round002.pt", "round003.pt"):  # as if killed during round 2
        (directory / late).unlink()
    resumed, _ = run(data, directory, "random")
    assert strip(resumed) == strip(reference)


def test_rounds_saved_under_other_settings_are_discarded(data, tmp_path):
    def random_run(config, directory, spec):
        rows = prune_run(
            trained_model(data),
            data,
            "random",
            config,
            TRAIN,
            PLATFORM,
            None,
            {},
            0,
            directory,
            spec,
            source_epoch=0,
        )
        return strip(rows)

    spec = {"prune": dataclasses.asdict(FAST), "method": "random", "run": {"width": 32}}
    first = random_run(FAST, tmp_path, spec)
    again = random_run(FAST, tmp_path, spec)
    assert again == first  # same settings: resumed (here: already finished)
    half = dataclasses.replace(FAST, fraction=0.5)
    other = {**spec, "prune": dataclasses.asdict(half)}
    rerun = random_run(half, tmp_path, other)
    fresh = random_run(half, tmp_path / "new", other)
    assert rerun == fresh != first


class Preempted(Exception):
    """Stands in for SIGKILL: the job stops right after a resume point is on disk."""


def test_a_job_killed_inside_a_round_resumes_from_its_resume_point(data, tmp_path, monkeypatch):
    every_five = dataclasses.replace(TRAIN, checkpoint_every=5)
    arguments = (data, "imp-finetune", FAST, every_five, PLATFORM, None, {}, 0)
    reference = prune_run(trained_model(data), *arguments, tmp_path / "reference", source_epoch=0)

    saves = []
    original = session_module.save_resume_point

    def save_then_die(state, path):
        original(state, path)
        saves.append(path.name)
        if len(saves) == 5:  # 3 points a round (epochs 5, 10, 15): round 2, epoch 10
            raise Preempted

    monkeypatch.setattr(session_module, "save_resume_point", save_then_die)
    directory = tmp_path / "killed"
    with pytest.raises(Preempted):
        prune_run(trained_model(data), *arguments, directory, source_epoch=0)
    assert saves[-1] == "resume-round002-epoch0000010.pt"
    assert sorted(p.name for p in directory.iterdir()) == [
        "resume-round002-epoch0000010.pt",
        "round000.pt",
        "round001.pt",
    ]
    monkeypatch.undo()
    resumed = prune_run(trained_model(data), *arguments, directory, source_epoch=0)
    assert strip(resumed) == strip(reference)
    assert not list(directory.glob("resume-*.pt")), "a finished job keeps no resume point"


def test_a_round_reports_its_validation_best_epoch_and_the_next_round_prunes_those_weights(
    data, tmp_path
):
    """With prune.stop validation a round is its model of lowest validation error: the round's
    checkpoint holds that model (it reproduces the row's metrics), the next round's masks are
    the largest magnitudes of those weights, and patience ends a round that many epochs after
    its best. prune.stop fixed reports the end of the budget."""
    config = dataclasses.replace(FAST, epochs=300, patience=30)
    rows = prune_run(
        trained_model(data),
        data,
        "imp-finetune",
        config,
        TRAIN,
        PLATFORM,
        None,
        {},
        0,
        tmp_path,
        source_epoch=0,
    )
    pruned = rows[1:]
    assert all(r["epochs_spent"] == min(300, r["epochs"] + 30) for r in pruned)
    assert any(r["epochs_spent"] < 300 for r in pruned), "no round stopped early: vacuous"
    feed = make_feed(TRAIN, data, PLATFORM)
    for index, row in enumerate(rows):
        state = torch.load(tmp_path / f"round{index:03d}.pt", weights_only=True)
        model = build_model("mlp", 32, data.input_shape, data.num_classes)
        model.load_state_dict(state["model"])
        measured = evaluate(model, data, feed)
        assert measured["val_error"] == row["val_error"]
        assert measured["test_error"] == row["test_error"]
        if index + 1 < len(rows):
            weights = model[1].weight.detach().abs().flatten()
            kept = rows[index + 1]["n_prunable_nonzero"]
            following = torch.load(tmp_path / f"round{index + 1:03d}.pt", weights_only=True)
            largest = torch.zeros_like(weights, dtype=torch.bool)
            largest[weights.topk(kept).indices] = True
            assert torch.equal(following["masks"]["1.weight"].flatten(), largest)

    fixed = dataclasses.replace(config, stop="fixed", patience=None)
    arguments = (data, "imp-finetune", fixed, TRAIN, PLATFORM, None, {}, 0, tmp_path / "fixed")
    ended = prune_run(trained_model(data), *arguments, source_epoch=0)
    assert [(r["epochs"], r["epochs_spent"]) for r in ended[1:]] == [(300, 300)] * 3
    # a method's fixed-budget twin trains its full budget under prune.stop validation too: the
    # same rounds as the method under prune.stop fixed
    arguments = (data, "imp-finetune-fixed", config, TRAIN, PLATFORM, None, {}, 0, tmp_path / "t")
    twin = prune_run(trained_model(data), *arguments, source_epoch=0)
    columns = ("epochs", "epochs_spent", "val_error", "test_error", "n_prunable_nonzero")
    assert [[r[c] for c in columns] for r in twin] == [[r[c] for c in columns] for r in ended]


def test_a_round_killed_after_its_best_epoch_resumes_to_the_same_rows(data, tmp_path, monkeypatch):
    every_five = dataclasses.replace(TRAIN, checkpoint_every=5)
    config = dataclasses.replace(FAST, epochs=300, patience=30)
    arguments = (data, "imp-finetune", config, every_five, PLATFORM, None, {}, 0)
    reference = prune_run(trained_model(data), *arguments, tmp_path / "whole", source_epoch=0)
    round_, best = next((r["round"], r["epochs"]) for r in reference[1:] if r["epochs"] > 0)
    kill_at = f"resume-round{round_:03d}-epoch{best + 5:07d}.pt"  # the best model is held

    original = session_module.save_resume_point

    def save_then_die(state, path):
        original(state, path)
        if path.name == kill_at:
            raise Preempted

    monkeypatch.setattr(session_module, "save_resume_point", save_then_die)
    directory = tmp_path / "killed"
    with pytest.raises(Preempted):
        prune_run(trained_model(data), *arguments, directory, source_epoch=0)
    monkeypatch.undo()
    resumed = prune_run(trained_model(data), *arguments, directory, source_epoch=0)
    assert strip(resumed) == strip(reference)


def test_a_diverged_round_is_recorded_and_ends_the_job(data, tmp_path):
    exploding = dataclasses.replace(TRAIN, optimizer="sgd", lr=1e30)
    arguments = (data, "oneshot", FAST, exploding, PLATFORM, None, {}, 0, tmp_path)
    rows = prune_run(trained_model(data, width=64), *arguments, source_epoch=0)
    assert [r["diverged"] for r in rows] == [False, True]
    assert all(math.isnan(rows[1][m]) for m in ("test_error", "train_loss", "memorization"))
    again = prune_run(trained_model(data, width=64), *arguments, source_epoch=0)
    assert len(again) == 2, "a resumed job does not prune on from NaN weights"


@pytest.mark.parametrize("name", ["resnet18k", "cnn5k"])
def test_convolutional_models_are_pruned_exactly_and_retrained(name, tmp_path):
    """Conv kernels are pruned like linear weights (batch norm never is); retraining with
    crops and flips on the device gives the same numbers twice."""
    generator = torch.Generator().manual_seed(0)
    images = Dataset(
        name="images",
        x_train=torch.rand(64, 3, 8, 8, generator=generator),
        y_train=torch.arange(64) % 4,
        x_test=torch.rand(32, 3, 8, 8, generator=generator),
        y_test=torch.arange(32) % 4,
        num_classes=4,
        sha256="0" * 64,
    )
    data = RunData.build(images, draw_noise(images, "images", 0.25, 0), torch.device("cpu"))
    config = PruneConfig.of(rounds=2, fraction=0.5, epochs=3)
    train = dataclasses.replace(TRAIN, batch_size=16, eval_every=1, augment=("crop", "flip"))
    results = []
    for directory in ("a", "b"):
        torch.manual_seed(0)
        model = build_model(name, 2, (3, 8, 8), 4)
        rows = prune_run(
            model,
            data,
            "imp-finetune",
            config,
            train,
            PLATFORM,
            None,
            {},
            0,
            tmp_path / directory,
            source_epoch=0,
        )
        results.append(strip(rows))
    assert results[0] == results[1]
    weights = prunable_weights(model, False)
    assert all(w.dim() == 4 for w in weights.values()), "every prunable layer is a convolution"
    kept = sum(int(w.count_nonzero()) for w in weights.values())
    total = sum(w.numel() for w in weights.values())
    assert kept == keep_count(total, 0.25) == rows[-1]["n_prunable_nonzero"]
    assert [r["epochs"] for r in rows] == [0, 3, 3] and not any(r["diverged"] for r in rows)


def test_fine_tuning_keeps_the_final_rate_and_rewinding_replays_the_schedule():
    train = TrainConfig.of(
        optimizer="sgd", lr=0.1, batch_size=50, lr_schedule="inverse_sqrt", lr_decay_steps=4
    )
    # 200 samples in batches of 50: epoch e ends at step 4e; step t runs at 0.1 / sqrt(1 + t // 4)
    finetune = retraining_rates(
        PRUNE_METHODS["imp-finetune"], train, source_epoch=15, rewind_epoch=1, n_train=200
    )
    assert finetune(0) == finetune(1000) == pytest.approx(0.1 / math.sqrt(16))
    replay = retraining_rates(
        PRUNE_METHODS["imp-lr-rewind"], train, source_epoch=15, rewind_epoch=1, n_train=200
    )
    assert [replay(t) for t in (0, 4)] == pytest.approx([0.1 / math.sqrt(2), 0.1 / math.sqrt(3)])
    assert (
        retraining_rates(PRUNE_METHODS["imp-finetune"], TRAIN, 15, 1, 200) is None
    )  # constant: train.lr


def test_lr_rewinding_differs_from_fine_tuning_only_under_a_decaying_schedule(data, tmp_path):
    def final_losses(method, train):
        rows = prune_run(
            trained_model(data),
            data,
            method,
            FAST,
            train,
            PLATFORM,
            None,
            {},
            0,
            tmp_path / f"{method}-{train.lr_schedule}",
            source_epoch=50,
        )
        return [r["train_loss"] for r in rows]

    constant = dataclasses.replace(TRAIN, optimizer="sgd", lr=0.05, max_epochs=20)
    decaying = dataclasses.replace(constant, lr_schedule="inverse_sqrt", lr_decay_steps=1)
    assert final_losses("imp-finetune", constant) == final_losses("imp-lr-rewind", constant)
    assert final_losses("imp-finetune", decaying) != final_losses("imp-lr-rewind", decaying)


def test_layer_counts_share_a_count_exactly_in_proportion():
    assert layer_counts([100, 300], 40) == [10, 30]
    assert layer_counts([3, 3, 3], 4) == [2, 1, 1]  # ties go to the earlier layer
    assert layer_counts([1000, 7], 10) == [10, 0]
    for sizes, keep in [([5, 7, 11], 9), ([64 * 40, 400], 1234), ([1], 1)]:
        counts = layer_counts(sizes, keep)
        assert sum(counts) == keep
        assert all(abs(c - s * keep / sum(sizes)) < 1 for c, s in zip(counts, sizes, strict=True))


@pytest.mark.parametrize("method", sorted(PRUNE_METHODS.names()))
@pytest.mark.parametrize("scope", ["global", "layer"])
def test_budget_schedules_hit_their_budgets_exactly(data, tmp_path, method, scope):
    # 32 hidden units: 32 * 64 prunable weights in the first layer, 320 in the output layer.
    budgets = (5000, 2000, 777, 101, 3)  # 5000 is above the model's size: skipped
    config = PruneConfig.of(budgets=budgets, scope=scope, prune_output_layer=True, epochs=2)
    torch.manual_seed(5)
    rewind = build_model("mlp", 32, data.input_shape, data.num_classes).state_dict()
    counts = None
    if like := PRUNE_METHODS[method].counts_from:
        matched, _ = run(data, tmp_path / like, like, config, rewind=rewind)
        counts = {r["round"]: json.loads(r["layer_counts"]) for r in matched[1:]}
    rows, model = run(data, tmp_path, method, config, rewind=rewind, layer_counts=counts)
    assert rows[0]["n_prunable"] == 32 * 64 + 32 * 10
    assert [r["n_prunable_nonzero"] for r in rows[1:]] == [2000, 777, 101, 3]
    assert [r["round"] for r in rows] == [0, 1, 2, 3, 4]
    kept = sum(int(w.count_nonzero()) for w in prunable_weights(model, True).values())
    assert kept == 3


def test_the_pruning_figure_title_fits_the_narrowest_figure():
    """The one-metric figure (memorisation) is 6.9 inches wide: about 9 title characters an
    inch fit, so no title line may be longer than 62 (one line of 76 was clipped)."""
    from ddprune.analysis.figures.pruning import _pruning_title

    rows = pd.DataFrame({"dataset": ["fashion-mnist"], "model": ["resnet18k"], "scope": ["global"]})
    for what in (
        "Pruning from checkpoints around the IT",
        "Memorisation of the noisy labels while pruning",
    ):
        title = _pruning_title(rows, what)
        assert title.endswith("masks chosen over all layers")
        assert all(len(line) <= 62 for line in title.splitlines())
