"""Transforms: ToTensor, Normalize, RandomCrop, RandomHorizontalFlip, Compose, Lambda."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidl
from minidl.data import transforms as T


def test_to_tensor_scales_uint8_and_moves_channels_first():
    hw = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    out = T.ToTensor()(hw)
    assert isinstance(out, minidl.Tensor) and out.shape == (1, 3, 4) and out.dtype == np.float32
    np.testing.assert_array_equal(out.array[0], hw.astype(np.float32) / np.float32(255))
    hwc = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
    out = T.ToTensor()(hwc)
    assert out.shape == (3, 5, 6) and out.array.flags.c_contiguous
    np.testing.assert_array_equal(out.array[2, 1, 4], np.float32(hwc[1, 4, 2]) / np.float32(255))
    floats = np.full((2, 2, 3), 7.5)             # non-uint8: moved, not scaled (torchvision)
    out = T.ToTensor()(floats)
    assert out.shape == (3, 2, 2) and out.dtype == np.float64 and out.array.max() == 7.5
    batch = T.ToTensor().apply_batch(np.stack([hwc, hwc]))
    np.testing.assert_array_equal(batch.array[1], T.ToTensor()(hwc).array)


def test_to_tensor_rejects_bad_input():
    with pytest.raises(TypeError, match="ToTensor: pic should be an ndarray.*got Tensor"):
        T.ToTensor()(minidl.zeros(3, 3))
    with pytest.raises(ValueError, match="2 or 3 dimensional, got 4"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_normalize_per_channel_keeps_type_and_dtype():
    x = np.random.default_rng(1).random((3, 4, 5)).astype(np.float32)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = T.Normalize(mean, std)(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    for c in range(3):
        np.testing.assert_allclose(out[c], (x[c] - mean[c]) / std[c], rtol=1e-6)
    t = T.Normalize(mean, std)(minidl.tensor(x))
    assert isinstance(t, minidl.Tensor)
    np.testing.assert_array_equal(t.array, out)
    batch = T.Normalize(mean, std).apply_batch(np.stack([x, x]))
    np.testing.assert_array_equal(batch[1], out)
    y = x.copy()
    assert T.Normalize(mean, std, inplace=True)(y) is y
    np.testing.assert_array_equal(y, out)


def test_normalize_errors():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="should be a float tensor, got uint8"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"mean has 2 values but the input has 3 channels"):
        T.Normalize((0.5, 0.5), (1.0,))(np.zeros((3, 2, 2), np.float32))


@given(h=st.integers(1, 6), w=st.integers(1, 6), pad=st.integers(0, 3), seed=st.integers(0, 99))
def test_random_crop_is_a_window_of_the_padded_image(h, w, pad, seed):
    x = np.arange(2 * h * w, dtype=np.float64).reshape(2, h, w) + 1
    th, tw = min(h + 2 * pad, 3), min(w + 2 * pad, 4)
    out = T.RandomCrop((th, tw), padding=pad, generator=seed)(x)
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    rng = np.random.default_rng(seed)
    H, W = padded.shape[1:]
    if (H, W) == (th, tw):
        i = j = 0
    else:
        i, j = rng.integers(0, H - th + 1), rng.integers(0, W - tw + 1)
    np.testing.assert_array_equal(out, padded[:, i:i + th, j:j + tw])


def test_random_crop_padding_forms_modes_and_errors():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3)
    full = T.RandomCrop((3 + 2 + 4, 3 + 1 + 3), padding=(1, 2, 3, 4), fill=-1)(x)  # l, t, r, b
    np.testing.assert_array_equal(full[0], np.pad(x[0], ((2, 4), (1, 3)), constant_values=-1))
    edge = T.RandomCrop(5, padding=(1, 1), padding_mode="reflect")(x)
    np.testing.assert_array_equal(edge[0], np.pad(x[0], 1, mode="reflect"))
    grown = T.RandomCrop(5, pad_if_needed=True)(np.ones((1, 3, 3), np.float32), )
    assert grown.shape == (1, 5, 5)
    t = T.RandomCrop(2, generator=0)(minidl.tensor(x))
    assert isinstance(t, minidl.Tensor) and t.shape == (1, 2, 2)
    with pytest.raises(ValueError, match=r"required crop size \(4, 4\) is larger than the "
                                         r"input image size \(3, 3\)"):
        T.RandomCrop(4)(x)
    with pytest.raises(ValueError, match="padding should be a non-negative int"):
        T.RandomCrop(2, padding=-1)
    with pytest.raises(ValueError, match="padding_mode should be one of"):
        T.RandomCrop(2, padding_mode="wrap")


def test_random_horizontal_flip_follows_its_draws():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    flips = T.RandomHorizontalFlip(p=0.5, generator=42)
    draws = np.random.default_rng(42).random(20) < 0.5
    for flipped in draws:
        out = flips(x)
        np.testing.assert_array_equal(out, x[..., ::-1] if flipped else x)
    assert T.RandomHorizontalFlip(p=1.0)(minidl.tensor(x)).tolist() == [[[2, 1, 0], [5, 4, 3]]]
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)
    with pytest.raises(ValueError, match="p should be a probability"):
        T.RandomHorizontalFlip(p=1.5)


def test_random_transforms_follow_manual_seed():
    x = np.random.default_rng(0).random((3, 8, 8))
    aug = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip()])
    minidl.manual_seed(9)
    first = [aug(x) for _ in range(5)]
    minidl.manual_seed(9)
    for a in first:
        np.testing.assert_array_equal(aug(x), a)


def test_compose_lambda_and_batchability():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,)), T.Lambda(lambda t: t * 2)])
    out = pipeline(np.full((2, 2), 255, np.uint8))
    np.testing.assert_allclose(out.array, np.full((1, 2, 2), 2.0))
    assert not pipeline.batchable
    assert T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]).batchable
    assert "Normalize" in repr(pipeline)
    with pytest.raises(TypeError, match="Lambda: argument should be callable"):
        T.Lambda(3)
