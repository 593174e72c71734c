"""Feeding models on the device: uint8 pixels standardised per batch, the memory layout,
bfloat16 autocast and torch.compile."""

from __future__ import annotations

import pytest
import torch

from ddprune.data.augment import Augmentation
from ddprune.data.base import Dataset
from ddprune.data.feed import Feed, PixelScale
from ddprune.data.noise import draw_noise
from ddprune.data.run_data import RunData
from ddprune.models import build_model
from ddprune.study.hparams import Platform, TrainConfig
from ddprune.training.components import autocast, checkpoint_schedule, make_feed, make_optimizer
from ddprune.training.evaluation import evaluate
from ddprune.training.loop import Progress, train
from ddprune.training.platform import accelerate


def pixels(n: int, seed: int = 0, size: int = 8) -> torch.Tensor:
    """uint8 images whose three channels have different means and spreads."""
    generator = torch.Generator().manual_seed(seed)
    spread = torch.tensor([40.0, 80.0, 10.0]).view(1, 3, 1, 1)
    centre = torch.tensor([60.0, 128.0, 200.0]).view(1, 3, 1, 1)
    noise = torch.randn(n, 3, size, size, generator=generator)
    return (centre + spread * noise).round().clamp(0, 255).to(torch.uint8)


def image_data(n_train: int = 64, size: int = 8) -> RunData:
    x_train, x_test = pixels(n_train, 0, size), pixels(32, 1, size)
    images = Dataset(
        name="images",
        x_train=x_train,
        y_train=torch.arange(n_train) % 4,
        x_test=x_test,
        y_test=torch.arange(32) % 4,
        num_classes=4,
        sha256="0" * 64,
    )
    return RunData.build(images, draw_noise(images, "images", 0.25, 0), torch.device("cpu"))


def test_uint8_images_stay_uint8_and_are_standardised_by_the_training_statistics():
    data = image_data(256)
    assert data.x_train.dtype == data.x_test.dtype == torch.uint8
    standard = Feed(pixels=data.pixels).inputs(data.x_train)
    assert standard.dtype == torch.float32 and standard.shape == data.x_train.shape
    torch.testing.assert_close(standard.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(standard.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-2, rtol=0)
    chunked = PixelScale.of(data.x_train, chunk=7)
    torch.testing.assert_close(chunked.scale, data.pixels.scale)
    torch.testing.assert_close(chunked.shift, data.pixels.shift)


def test_float_features_are_fed_as_stored():
    features = Dataset(
        "v", torch.rand(8, 5), torch.arange(8) % 2, torch.rand(4, 5), torch.arange(4) % 2, 2, "0"
    )
    data = RunData.build(features, draw_noise(features, "v", 0.0, 0), torch.device("cpu"))
    assert data.pixels is None
    assert Feed(channels_last=True).inputs(data.x_train) is data.x_train
    with pytest.raises(ValueError, match="uint8"):
        PixelScale.of(data.x_train)


def test_augmentation_needs_the_generator_and_channels_last_lays_out_the_batch():
    data = image_data()
    feed = Feed(
        pixels=data.pixels, augmentation=Augmentation(crop=True, flip=True), channels_last=True
    )
    evaluation = feed.inputs(data.x_train)
    assert torch.equal(evaluation, Feed(pixels=data.pixels).inputs(data.x_train)), "unaugmented"
    training = feed.inputs(data.x_train, torch.Generator().manual_seed(0))
    assert not torch.equal(training, evaluation)
    for batch in (evaluation, training):
        assert batch.is_contiguous(memory_format=torch.channels_last)


def test_bfloat16_autocast_runs_the_convolutions_in_bfloat16_and_returns_float32_logits():
    data = image_data()
    torch.manual_seed(0)
    model = build_model("cnn5k", 2, data.input_shape, data.num_classes)
    seen = []
    model[0].register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    config = TrainConfig.of(precision="bfloat16")
    logits = make_feed(config, data, Platform.of(device="cpu")).logits(model, data.x_train)
    assert seen == [torch.bfloat16] and logits.dtype == torch.float32
    full = make_feed(TrainConfig.of(), data, Platform.of(device="cpu")).logits(model, data.x_train)
    assert seen[-1] == torch.float32
    torch.testing.assert_close(logits, full, atol=0.1, rtol=0.05)  # same model, coarser sums
    with pytest.raises(KeyError, match=r"unknown precision 'float16'; registered"):
        autocast(TrainConfig.of(precision="float16"))


def train_briefly(data: RunData, platform: Platform) -> tuple[torch.nn.Module, dict]:
    torch.manual_seed(0)
    model = build_model("cnn5k", 2, data.input_shape, data.num_classes)
    config = TrainConfig.of(
        lr=1e-2,
        batch_size=16,
        max_epochs=2,
        eval_every=1,
        stop_at_train_error=None,
        augment=("flip",),
    )
    net = accelerate(platform, model)
    feed = make_feed(config, data, platform)
    order, schedule = torch.Generator().manual_seed(0), checkpoint_schedule(config, platform)
    optimizer = make_optimizer(config, net)
    train(net, optimizer, data, config, feed, order, schedule, Progress(), max_epochs=2)
    return model, evaluate(net, data, feed)


@pytest.mark.parametrize("switch", ["channels_last", "compile"])
def test_the_speed_switches_train_the_same_model(switch):
    """channels_last and torch.compile change the kernels, not the arithmetic: the numbers
    agree with the default path up to rounding, and the model keeps its own state_dict."""
    data = image_data()
    _, reference = train_briefly(data, Platform.of(device="cpu"))
    model, metrics = train_briefly(data, Platform.of(device="cpu", **{switch: True}))
    assert metrics["train_error"] == reference["train_error"]
    assert metrics["test_loss"] == pytest.approx(reference["test_loss"], rel=1e-4)
    assert not any(key.startswith("_orig_mod") for key in model.state_dict())
    if switch == "channels_last":
        assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
