"""Augmentation on the device: per sample, shape- and dtype-preserving, reproducible."""

from __future__ import annotations

import pytest
import torch

from ddprune.data.augment import Augmentation, random_crop, random_flip


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_two_copies_of_one_image_get_different_crops_of_the_same_shape(dtype):
    image = torch.arange(3 * 32 * 32).reshape(1, 3, 32, 32).remainder(251).to(dtype) + 1
    batch = image.repeat(16, 1, 1, 1)
    cropped = Augmentation(crop=True, flip=True)(batch, generator())
    assert cropped.shape == batch.shape and cropped.dtype == dtype
    distinct = {tuple(c.flatten().tolist()) for c in cropped}
    assert len(distinct) > 8  # 81 offsets x 2 flips: 16 copies almost never collide


def test_a_crop_is_a_shifted_window_of_the_zero_padded_image():
    images = torch.rand(64, 2, 8, 8, generator=generator(1)) + 1  # no zeros of its own
    cropped = random_crop(images, 4, generator(2))
    padded = torch.nn.functional.pad(images, (4, 4, 4, 4))
    for original, crop in zip(padded, cropped, strict=True):
        windows = [
            (dy, dx)
            for dy in range(9)
            for dx in range(9)
            if torch.equal(original[:, dy : dy + 8, dx : dx + 8], crop)
        ]
        assert len(windows) == 1
    assert (cropped == 0).any(), "some crops reach into the padding"


def test_flip_mirrors_about_half_of_the_batch():
    images = torch.rand(400, 1, 4, 4, generator=generator(3))
    flipped = random_flip(images, generator(4))
    mirrored = [torch.equal(f, i.flip(-1)) for f, i in zip(flipped, images, strict=True)]
    same = [torch.equal(f, i) for f, i in zip(flipped, images, strict=True)]
    assert all(m or s for m, s in zip(mirrored, same, strict=True))
    assert 150 < sum(mirrored) < 250


def test_the_same_generator_state_gives_the_same_batch():
    images = torch.rand(32, 3, 16, 16, generator=generator(5))
    augment = Augmentation(crop=True, flip=True, padding=2)
    assert torch.equal(augment(images, generator(7)), augment(images, generator(7)))
    assert not torch.equal(augment(images, generator(7)), augment(images, generator(8)))


def test_bad_settings_and_vector_data_name_the_field():
    with pytest.raises(ValueError, match=r"train.augment: \['rotate'\]; allowed"):
        Augmentation.from_config(["crop", "rotate"], 4)
    with pytest.raises(ValueError, match=r"train\.augment needs images"):
        Augmentation(flip=True)(torch.zeros(4, 64), generator())
    assert not Augmentation.from_config([], 4)
