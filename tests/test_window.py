"""The window a second look reads (models.window): the rectangle around the first look's text,
a margin wider, in few shapes; outside it the first look's maps stand alone."""
from __future__ import annotations

import numpy as np
import pytest

from models.window import WINDOW_CUE, Window, average_in_window, text_window
from tests.scene_maps import info


def test_the_window_holds_the_text_plus_its_margin_on_the_stride():
    """The second look reads a rectangle around every pixel of either map above the cue,
    widened by the margin, a quarter, half, three quarters or all of the input in each
    direction (few shapes: OpenVINO compiles for each new one), edges on the stride, inside
    the input; padding never counts."""
    maps = np.zeros((2, 320, 480), np.float32)
    maps[0, 100:130, 200:260] = 0.9           # a line
    maps[1, 140:150, 300:310] = WINDOW_CUE + 0.01   # a faint word, in the word map only
    maps[0, :, 470:] = 0.9                    # in the padding (the image is 470 wide): ignored
    image = info(300, 470)
    # rows 100-150, columns 200-310: a quarter of the height (96) and of the width (128) hold them
    assert text_window(maps, image, 0) == Window(64, 160, 192, 320)
    # 64 px wider: rows 36-214 (178) need three quarters of the height (256), columns 136-374
    # (238) half the width (256)
    assert text_window(maps, image, 64) == Window(0, 256, 128, 384)
    assert text_window(maps, image, 4096) == Window(0, 320, 0, 480)
    assert text_window(maps[0], image, 0) == Window(64, 160, 160, 288)     # one map: the line alone, centred
    assert text_window(maps * 0.1, image, 64) is None      # nothing above the cue: no second look


def test_outside_the_window_the_first_look_stands_alone():
    first = np.full((2, 64, 96), 0.4, np.float32)
    window = Window(32, 64, 32, 96)
    seen = np.zeros((2, 32, 64), np.float32)
    seen[..., :, 32:] = 1.0                   # the window's right half
    both = average_in_window(first, seen, window)
    np.testing.assert_allclose(both[..., :32, :], 0.4)
    np.testing.assert_allclose(both[..., 32:, :32], 0.4)
    np.testing.assert_allclose(both[..., 32:, 32:64], 0.2)
    np.testing.assert_allclose(both[..., 32:, 64:], 0.7)
    np.testing.assert_allclose(average_in_window(first, first), first)      # no window: everywhere
    with pytest.raises(ValueError, match="do not match"):
        average_in_window(first, seen[..., :16], window)


def test_a_window_crops_either_input_layout_alike():
    chw = np.arange(3 * 64 * 96, dtype=np.float32).reshape(3, 64, 96)
    window = Window(32, 64, 0, 32)
    assert window.crop(chw).shape == (3, 32, 32)
    np.testing.assert_array_equal(window.crop(chw.transpose(1, 2, 0), channels_last=True), window.crop(chw).transpose(1, 2, 0))
    assert Window.whole(chw.shape) == Window(0, 64, 0, 96)
