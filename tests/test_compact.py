"""A pruned MLP retrained as its compact network equals the masked full network: one step
gives the same loss, gradients and update (to float tolerance) for every method and
optimizer, a short run stays close, and a compact round's checkpoint reloads into the full
network with its recorded metrics."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ddprune.data.datasets import load_dataset
from ddprune.data.noise import draw_noise
from ddprune.data.run_data import RunData
from ddprune.models import build_model
from ddprune.pruning.compact import compact
from ddprune.pruning.masks import MaskedWeights, prunable_weights
from ddprune.pruning.rounds import PruneJob, prune_run
from ddprune.pruning.scores import Sources, choose_masks
from ddprune.study.hparams import Platform, PruneConfig, TrainConfig
from ddprune.study.paths import round_checkpoint
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.training.checkpoints import load_checkpoint
from ddprune.training.components import OPTIMIZERS, make_feed, make_optimizer
from ddprune.training.evaluation import disagreements, evaluate

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


@pytest.fixture(scope="module")
def data() -> RunData:
    dataset = load_dataset("digits", {"n_train": 200, "n_validation": 100})
    return RunData.build(dataset, draw_noise(dataset, "digits", 0.2, 0), torch.device("cpu"))


def trained(data: RunData, width: int = 48) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model("mlp", width, data.input_shape, data.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        loss = F.cross_entropy(model(data.x_train), data.y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def masked(model: torch.nn.Module, method: str, keep: int) -> dict[str, torch.Tensor]:
    """``method``'s first-round masks at ``keep`` weights (output layer included), applied."""
    weights = prunable_weights(model, include_output=True)
    dense = {k: v.detach().clone() for k, v in model.state_dict().items()}
    generator = torch.Generator().manual_seed(0)
    masks = choose_masks(
        PRUNE_METHODS[method], weights, Sources(dense, dense), None, keep, "global", generator
    )
    MaskedWeights(model, masks).apply_to_weights()
    return masks


def steps(model, masks, optimizer, data, count: int) -> list[float]:
    """``count`` full-batch steps with the gradients masked; the loss of each."""
    masking, losses = MaskedWeights(model, masks), []
    for _ in range(count):
        loss = F.cross_entropy(model(data.x_train), data.y_train)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        masking.apply_to_gradients()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("method", PRUNE_METHODS.names())
@pytest.mark.parametrize("optimizer", OPTIMIZERS.names())
def test_one_compact_step_equals_one_masked_step(data, method, optimizer):
    config = TrainConfig.of(optimizer=optimizer, lr=0.05, momentum=0.9)
    full = trained(data)
    masks = masked(full, method, keep=60)
    small = compact(full, masks)
    assert small is not None
    hidden = small.model[1].out_features
    assert hidden < 48 and small.model[1].in_features < 64  # units and features dropped
    reference = copy.deepcopy(full)

    reference_loss = steps(reference, masks, make_optimizer(config, reference), data, 1)
    compact_loss = steps(small.model, small.masks, make_optimizer(config, small.model), data, 1)
    assert compact_loss == pytest.approx(reference_loss, rel=1e-6)
    for name, (rows, columns) in small.kept.items():  # the gradients, at the kept places
        grad = reference.get_submodule(name).weight.grad[rows.unsqueeze(1), columns]
        torch.testing.assert_close(small.model.get_submodule(name).weight.grad, grad, **TOLERANCE)
    small.write_back()
    for (name, after), before in zip(
        full.state_dict().items(), reference.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(after, before, **TOLERANCE, msg=name)
    assert all(
        torch.equal(full.state_dict()[name] == 0, reference.state_dict()[name] == 0)
        for name in masks
    )  # the same weights are zero: masks, sparsity and counts are the masked path's


def test_a_short_compact_run_stays_close_to_the_masked_run(data):
    config = TrainConfig.of(lr=1e-2)
    full = trained(data)
    masks = masked(full, "imp-finetune", keep=100)
    reference, small = copy.deepcopy(full), compact(full, masks)
    expected = steps(reference, masks, make_optimizer(config, reference), data, 50)
    got = steps(small.model, small.masks, make_optimizer(config, small.model), data, 50)
    assert got == pytest.approx(expected, rel=1e-4)
    small.write_back()
    for after, before in zip(full.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)


def test_nothing_to_drop_or_not_an_mlp_is_not_compacted(data):
    full = trained(data)
    assert compact(full, masked(full, "imp-finetune", keep=3000)) is None  # all units live
    cnn = build_model("cnn5k", 2, (1, 8, 8), 10)
    weights = prunable_weights(cnn, include_output=True)
    masks = {name: torch.zeros_like(w, dtype=torch.bool) for name, w in weights.items()}
    assert compact(cnn, masks) is None


def job(directory: Path, platform: Platform, train: TrainConfig) -> PruneJob:
    return PruneJob(
        method=PRUNE_METHODS["imp-finetune"],
        prune=PruneConfig.of(budgets=(800, 100, 30), prune_output_layer=True, epochs=40),
        train=train,
        platform=platform,
        source_epoch=0,
        seed=0,
        identity={},
        spec={},
        directory=directory,
    )


def test_a_compact_round_reloads_into_the_full_network_with_its_metrics(
    data, tmp_path, monkeypatch
):
    import ddprune.pruning.rounds as rounds

    compacted = []
    monkeypatch.setattr(
        rounds, "compact", lambda *a: compacted.append(compact(*a)) or compacted[-1]
    )
    train = TrainConfig.of(eval_every=10, stop_at_train_error=None)
    platform = Platform.of(device="cpu")
    rows = prune_run(trained(data), data, job(tmp_path / "compact", platform, train))
    assert [c is None for c in compacted] == [True, False, False]  # 800 kept: not worth it
    plain = dataclasses.replace(platform, compact=False)
    masked_rows = prune_run(trained(data), data, job(tmp_path / "masked", plain, train))
    for row, reference in zip(rows, masked_rows, strict=True):
        for metric in ("train_error", "test_error", "test_loss"):
            assert row[metric] == pytest.approx(reference[metric], rel=1e-3, abs=1e-2)
        assert row["n_nonzero"] == reference["n_nonzero"]
    for row in rows[1:]:
        model = build_model("mlp", 48, data.input_shape, data.num_classes)
        checkpoint = load_checkpoint(round_checkpoint(tmp_path / "compact", row["round"]))
        model.load_state_dict(checkpoint["model"])
        measured = evaluate(model, data, make_feed(train, data, platform))
        assert not disagreements(measured, row, torch.device("cpu"), None)


def test_weight_decay_keeps_the_masked_path(data, tmp_path, monkeypatch):
    import ddprune.pruning.rounds as rounds

    calls = []
    monkeypatch.setattr(rounds, "compact", lambda *a: calls.append(a))
    train = TrainConfig.of(eval_every=10, weight_decay=1e-3)
    prune_run(trained(data), data, job(tmp_path, Platform.of(device="cpu"), train))
    assert calls == []
